// slugid 5 ships no types; these are the functions the runner uses.
declare module 'slugid' {
  /** A v4 UUID as 22 URL-safe base64 characters, first bit clear (never starts with '-'). */
  export function nice(): string;
  export function v4(): string;
  const slugid: { nice: typeof nice; v4: typeof v4 };
  export default slugid;
}
