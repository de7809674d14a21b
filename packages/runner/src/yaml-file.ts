/**
 * @module yaml-file
 * Reads a YAML or JSON file (YAML is a superset of JSON) for the CLI: the task file and the worker
 * config. Every problem is a one-line UsageError saying what to mend. JSON text is read with
 * JSON.parse (a duplicate key keeps its last value, as JSON parsers do; YAML would refuse it).
 */
import { readFile } from 'node:fs/promises';
import { fileProblem, UsageError } from './errors.js';

/** `what` names the file in messages (`task file`), `hint` says how to mend an unreadable path. */
export async function readYamlFile(file: string, what: string, hint: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file}: ${fileProblem(err)}; ${hint}`);
  }
  // A JSON file needs no YAML parser (the yaml package is ~250 kB of code to load on every start).
  if (/^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON after all: YAML says what is wrong
    }
  }
  try {
    // yaml is CommonJS on Node: its exports are the module's default.
    const { default: yaml } = await import('yaml');
    return yaml.parse(text);
  } catch (err) {
    // The parser's first line, without the colon that introduces its excerpt.
    const reason = ((err as Error).message.split('\n')[0] ?? '').replace(/:\s*$/, '');
    throw new UsageError(`${what} ${file} is not valid YAML/JSON: ${reason}`);
  }
}
