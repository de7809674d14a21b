/**
 * @module redactor
 * Streaming secret redaction for the live log. A {@link SecretSet} holds every form of every
 * secret (raw, base64 and base64url with and without padding, `encodeURIComponent`); a
 * {@link Redactor} is one stream (one log source) through it. Text goes in as it arrives, in any
 * pieces; what comes out has every occurrence of every form replaced by `[secret]`, also when it
 * straddles pieces or lines. It holds back only the end of the text that could still turn into a
 * secret (the longest suffix that is a prefix of a form), so ordinary lines go straight through.
 *
 * Overlapping occurrences (of one secret's forms, or of two secrets) become one `[secret]`: every
 * character that belongs to any occurrence is hidden, which is what "longest first" is for.
 *
 * Cost: per piece, one native `indexOf` per searched form over the new text plus what was held back, and a
 * scan of at most (form length − 1) characters per form to find what to hold back. So
 * O(n · forms), with no re-scan of text already let through.
 *
 * @example
 * const secrets = new SecretSet();
 * secrets.add('hunter2');
 * const r = new Redactor(secrets);
 * r.push('the password is hun') + r.push('ter2\n') + r.end(); // 'the password is [secret]\n'
 */

export const SECRET = '[secret]';

/**
 * Secrets shorter than this are refused: a 1–3 character value ("a", "1", "yes") occurs all
 * over any log, so redacting it would destroy the log while hiding nothing worth hiding.
 */
export const MIN_SECRET_LENGTH = 4;

/**
 * A run of secret-looking text held back longer than this is let out anyway (as `[secret]`),
 * so a pathological self-overlapping secret ("aaaa" in endless "aaaa…") cannot grow memory.
 */
const MAX_HELD = 64 * 1024;

/** One searchable form of a secret and its KMP border table (`border[i]`: for `text[0..i]`). */
interface Form {
  readonly text: string;
  readonly border: Int32Array;
}

/** Raw, base64 / base64url (padded and not) of its UTF-8 bytes, and URL-encoded. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const b64 = bytes.toString('base64');
  const b64url = bytes.toString('base64url');
  const forms = [secret, b64, b64.replace(/=+$/, ''), b64url, `${b64url}${b64.slice(b64url.length)}`];
  forms.push(encodeURIComponent(secret));
  return [...new Set(forms)];
}

/**
 * A form that is searched for. Forms it is a prefix of (a padded base64 of its unpadded one) are
 * not searched on their own: they can only occur where it does, so they are checked there.
 */
interface Root {
  readonly text: string;
  readonly longer: readonly string[];
}

/** The secrets of one log, shared by all its sources; it only grows. */
export class SecretSet {
  private readonly known = new Set<string>();
  private all: Form[] = [];
  private searched: Root[] = [];

  /** Adds `secret` in all its forms; false (and nothing added) when it is too short. */
  add(secret: string): boolean {
    if (secret.length < MIN_SECRET_LENGTH) return false;
    if (this.known.has(secret)) return true;
    this.known.add(secret);
    const texts = [...new Set([...this.all.map((f) => f.text), ...secretForms(secret)])].sort(
      (a, b) => a.length - b.length,
    );
    const have = new Map(this.all.map((f) => [f.text, f]));
    this.all = texts.map((text) => have.get(text) ?? { text, border: borders(text) });
    const roots = new Map<string, string[]>();
    for (const text of texts) {
      const root = [...roots.keys()].find((r) => text.startsWith(r));
      if (root === undefined) roots.set(text, []);
      else roots.get(root)?.push(text);
    }
    this.searched = [...roots].map(([text, longer]) => ({ text, longer }));
    return true;
  }

  /** Every form of every secret. */
  get forms(): readonly Form[] {
    return this.all;
  }

  /** The forms to search for; each brings the longer forms it starts. */
  get roots(): readonly Root[] {
    return this.searched;
  }

  get size(): number {
    return this.known.size;
  }
}

/** One stream of text through a {@link SecretSet}. */
export class Redactor {
  /** Raw text not yet let out: it could be the start of a secret. */
  private held = '';

  constructor(private readonly secrets: SecretSet) {}

  /** Characters held back right now (for tests and bounds). */
  get heldLength(): number {
    return this.held.length;
  }

  /** Takes the next piece of the stream; returns the redacted text that is now final. */
  push(text: string): string {
    if (this.secrets.forms.length === 0 && this.held === '') return text;
    return this.scan(this.held + text, false);
  }

  /** Ends the stream: returns everything still held back, redacted. */
  end(): string {
    const text = this.held;
    this.held = '';
    return text ? this.scan(text, true) : '';
  }

  /**
   * Puts text that was let out but not yet used back in front of what is held, so that it is
   * scanned again (for a secret added meanwhile).
   */
  requeue(text: string): void {
    this.held = text + this.held;
  }

  private scan(s: string, final: boolean): string {
    const roots = this.secrets.roots;
    const safe = final ? s.length : safeEnd(s, this.secrets.forms);
    const next = roots.map((f) => s.indexOf(f.text));
    let out = '';
    let pos = 0;
    for (;;) {
      let start = -1;
      for (const n of next) if (n >= 0 && (start < 0 || n < start)) start = n;
      if (start < 0 || start >= safe) break;
      const end = clusterEnd(s, roots, next, start);
      if (end > safe && s.length - start <= MAX_HELD) {
        // a secret not yet complete may overlap this one: decide when more text is in
        this.held = s.slice(start);
        return out + s.slice(pos, start);
      }
      out += s.slice(pos, start) + SECRET;
      pos = end;
    }
    const cut = Math.max(pos, safe);
    this.held = s.slice(cut);
    return out + s.slice(pos, cut);
  }
}

/** Redacts a whole text at once. */
export function redact(text: string, secrets: SecretSet): string {
  if (secrets.forms.length === 0) return text;
  const r = new Redactor(secrets);
  return r.push(text) + r.end();
}

/**
 * Where the text stops being final: the start of its longest suffix that is a proper prefix of
 * some form. Before it, every occurrence of every form lies wholly inside `s`.
 */
function safeEnd(s: string, forms: readonly Form[]): number {
  let safe = s.length;
  for (const f of forms) safe = Math.min(safe, s.length - suffixIsPrefix(s, f));
  // never split a surrogate pair between what goes out and what is held
  const c = s.charCodeAt(safe - 1);
  if (safe > 0 && safe < s.length && c >= 0xd800 && c <= 0xdbff) safe -= 1;
  return safe;
}

/** Length of the longest suffix of `s` that is a proper prefix of `form` (KMP over its tail). */
function suffixIsPrefix(s: string, form: Form): number {
  const { text, border } = form;
  // a suffix of 4 or more characters starts with the form's first 4: let `indexOf` find where
  const head = text.slice(0, MIN_SECRET_LENGTH);
  const hit = s.indexOf(head, Math.max(0, s.length - text.length + 1));
  let k = 0;
  for (let i = hit >= 0 ? hit : Math.max(0, s.length - head.length + 1); i < s.length; i++) {
    const c = s.charCodeAt(i);
    while (k > 0 && text.charCodeAt(k) !== c) k = border[k - 1] ?? 0;
    if (text.charCodeAt(k) === c) k += 1;
  }
  return k; // < text.length: the scan covers at most text.length - 1 characters
}

/**
 * Extends the occurrence(s) at `start` by every occurrence that overlaps them, advancing each
 * form's next occurrence (`next`) past the cluster. Returns the cluster's end.
 */
function clusterEnd(s: string, roots: readonly Root[], next: number[], start: number): number {
  let end = start + 1; // take in every occurrence at `start`
  let grew = true;
  while (grew) {
    grew = false;
    roots.forEach((f, i) => {
      let n = next[i] ?? -1;
      while (n >= 0 && n < end) {
        end = Math.max(end, n + f.text.length);
        for (const l of f.longer) if (s.startsWith(l, n)) end = Math.max(end, n + l.length);
        n = s.indexOf(f.text, n + 1);
        grew = true;
      }
      next[i] = n;
    });
  }
  return end;
}

/** KMP failure table: `b[i]` is the length of the longest proper border of `text[0..i]`. */
function borders(text: string): Int32Array {
  const b = new Int32Array(text.length);
  let k = 0;
  for (let i = 1; i < text.length; i++) {
    while (k > 0 && text.charCodeAt(i) !== text.charCodeAt(k)) k = b[k - 1] ?? 0;
    if (text.charCodeAt(i) === text.charCodeAt(k)) k += 1;
    b[i] = k;
  }
  return b;
}
