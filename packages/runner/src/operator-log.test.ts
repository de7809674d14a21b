import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { createOperatorLog, errorWithoutStack } from './operator-log.js';

describe('createOperatorLog', () => {
  it('takes LOG_LEVEL names, and --debug over them', async () => {
    expect((await createOperatorLog({ debug: false, level: 'info' })).level).toBe('info');
    expect((await createOperatorLog({ debug: false, level: '' })).level).toBe('warn');
    expect((await createOperatorLog({ debug: true, level: 'error' })).level).toBe('debug');
  });

  it('refuses an unknown level as a usage error listing the levels', async () => {
    const err = await createOperatorLog({ debug: false, level: 'loud' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      'LOG_LEVEL=loud is not a log level; use one of trace, debug, info, warn, error, fatal, silent',
    );
  });

  it('logs an error without its stack, and a string err as the string itself', () => {
    const err = new Error('engine gone');
    expect(errorWithoutStack(err)).toMatchObject({ type: 'Error', message: 'engine gone' });
    expect(errorWithoutStack(err)).not.toHaveProperty('stack');
    expect(errorWithoutStack('Error: engine gone')).toBe('Error: engine gone');
    expect(errorWithoutStack(undefined)).toBeUndefined();
  });
});
