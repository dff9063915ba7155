/**
 * A small bounded memo for token work that is pure given its key (a verified token's subject, a freshly minted
 * token), so the hot routes do not pay for the same HMAC again and again. Oldest entries are dropped first.
 * Entries carry their own validity; the caller decides, with its clock, whether one may still be used.
 */
export function createTokenMemo<V>(maxEntries = 1000): {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
} {
  const entries = new Map<string, V>();
  return {
    get: (key) => entries.get(key),
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    delete: (key) => void entries.delete(key),
  };
}
