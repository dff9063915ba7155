/**
 * An HS256 secret imported once as a WebCrypto key. Given raw bytes, jose imports the secret again on every sign and
 * verify (`crypto.subtle.importKey`), a cost paid by every `/stream` and playlist request; a `CryptoKey` is used as
 * it is. The import starts at the first use and is shared by every later one.
 *
 * @example
 * const key = createHmacKey(secret, ['verify']);
 * await jwtVerify(token, await key(), { algorithms: ['HS256'] });
 */
export function createHmacKey(secret: string, usages: KeyUsage[]): () => Promise<CryptoKey> {
  let key: Promise<CryptoKey> | undefined;
  return () =>
    (key ??= crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      usages,
    ));
}
