import { describe, expect, it } from 'vitest';
import { MIN_SECRET_LENGTH, Redactor, SecretSet, redact, secretForms } from './redactor.js';

function setOf(...secrets: string[]): SecretSet {
  const set = new SecretSet();
  for (const s of secrets) set.add(s);
  return set;
}

function stream(secrets: SecretSet, pieces: readonly string[]): string {
  const r = new Redactor(secrets);
  return pieces.map((p) => r.push(p)).join('') + r.end();
}

/** What a whole-text redaction must give: every occurrence of every form, overlaps merged. */
function reference(text: string, secrets: readonly string[]): string {
  const spans: [number, number][] = [];
  for (const form of new Set(secrets.flatMap(secretForms)))
    for (let i = text.indexOf(form); i >= 0; i = text.indexOf(form, i + 1)) spans.push([i, i + form.length]);
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let pos = 0;
  for (let i = 0; i < spans.length;) {
    const [start] = spans[i] as [number, number];
    let end = (spans[i] as [number, number])[1];
    for (i++; i < spans.length && (spans[i] as [number, number])[0] < end; i++)
      end = Math.max(end, (spans[i] as [number, number])[1]);
    out += `${text.slice(pos, start)}[secret]`;
    pos = end;
  }
  return out + text.slice(pos);
}

describe('secretForms', () => {
  it('covers raw, base64, base64url with and without padding, and URL-encoded', () => {
    const forms = secretForms('a?b/c>d~');
    expect(forms).toEqual(
      expect.arrayContaining([
        'a?b/c>d~',
        'YT9iL2M+ZH4=',
        'YT9iL2M+ZH4',
        'YT9iL2M-ZH4',
        'YT9iL2M-ZH4=',
        'a%3Fb%2Fc%3Ed~',
      ]),
    );
    expect(new Set(forms).size).toBe(forms.length);
  });
});

describe('SecretSet', () => {
  it(`refuses secrets shorter than ${MIN_SECRET_LENGTH} characters`, () => {
    const set = new SecretSet();
    expect(set.add('')).toBe(false);
    expect(set.add('abc')).toBe(false);
    expect(set.add('abcd')).toBe(true);
    expect(redact('a abc abcd', set)).toBe('a abc [secret]');
  });
});

describe('Redactor', () => {
  it('redacts a secret split at every offset between two pieces', () => {
    const set = setOf('hunter2-😀-pass');
    const text = 'pw: hunter2-😀-pass ok\n';
    for (let i = 0; i <= text.length; i++)
      expect(stream(set, [text.slice(0, i), text.slice(i)])).toBe('pw: [secret] ok\n');
  });

  it('redacts a secret that arrives one character at a time', () => {
    const set = setOf('line one\nline two');
    expect(stream(set, [...'a line one\nline two b\n'])).toBe('a [secret] b\n');
  });

  it('holds back only a suffix that could start a secret', () => {
    const r = new Redactor(setOf('hunter2'));
    expect(r.push('no secret here\n')).toBe('no secret here\n');
    expect(r.heldLength).toBe(0);
    expect(r.push('almost hunt')).toBe('almost ');
    expect(r.heldLength).toBe(4);
    expect(r.push('ing\n')).toBe('hunting\n');
    expect(r.heldLength).toBe(0);
    expect(r.push('x hunter')).toBe('x ');
    expect(r.push('2')).toBe('[secret]');
    expect(r.end()).toBe('');
  });

  it('lets out a line at once when only a shorter prefix could continue', () => {
    const r = new Redactor(setOf('BEGIN\nKEY'));
    expect(r.push('done\n')).toBe('done\n');
    expect(r.push('BEGIN\n')).toBe('');
    expect(r.push('KEX\n')).toBe('BEGIN\nKEX\n');
  });

  it('finds base64, base64url and URL-encoded forms across pieces', () => {
    const secret = 'sécret?/+~>>';
    const set = setOf(secret);
    const b64 = Buffer.from(secret).toString('base64');
    const url = Buffer.from(secret).toString('base64url');
    const enc = encodeURIComponent(secret);
    const text = `a ${b64} b ${url} c ${b64.replace(/=+$/, '')} d ${enc} e`;
    const want = 'a [secret] b [secret] c [secret] d [secret] e';
    for (let i = 0; i <= text.length; i++) expect(stream(set, [text.slice(0, i), text.slice(i)])).toBe(want);
  });

  it('merges overlapping secrets into one [secret], longest first', () => {
    const set = setOf('1234', '34567890', 'abcd1234');
    expect(redact('x1234567890y', set)).toBe('x[secret]y');
    expect(redact('abcd1234 1234', set)).toBe('[secret] [secret]');
    expect(redact('12341234', set)).toBe('[secret][secret]');
    expect(stream(set, ['x123', '4', '5678', '90y'])).toBe('x[secret]y');
  });

  it('applies a secret added later to what it still holds and what comes next', () => {
    const set = setOf('hunter2');
    const r = new Redactor(set);
    expect(r.push('hunt')).toBe('');
    set.add('hunting-license');
    expect(r.push('ing-license\n')).toBe('[secret]\n');
    expect(r.push('hunter2\n')).toBe('[secret]\n');
  });

  it('bounds what it holds for a self-overlapping secret in endless text', () => {
    const r = new Redactor(setOf('aaaa'));
    let out = '';
    for (let i = 0; i < 200; i++) {
      out += r.push('a'.repeat(1000));
      expect(r.heldLength).toBeLessThanOrEqual(64 * 1024 + 1000);
    }
    out += r.end();
    expect(out).not.toContain('a');
  });

  it('matches a whole-text redaction for random text in random pieces', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const secrets = ['abab', 'ab\nba', 'bbaab', 'a\nab\nab', 'aabbaabbaab', 'b\n\nb'];
    const set = setOf(...secrets);
    for (let round = 0; round < 1000; round++) {
      const text = Array.from({ length: 60 }, () => 'ab\n'.charAt(rand(3))).join('');
      const pieces: string[] = [];
      for (let i = 0; i < text.length;) {
        const n = 1 + rand(8);
        pieces.push(text.slice(i, i + n));
        i += n;
      }
      expect(stream(set, pieces)).toBe(reference(text, secrets));
    }
  });
});
