import { createHmac, randomBytes } from 'node:crypto';

/** Prefix of a secret in the Standard Webhooks format: `whsec_` + base64 of the HMAC key. */
export const SECRET_PREFIX = 'whsec_';

/** Bytes of the key of a secret this service makes (the specification asks for 24 to 64). */
const SECRET_BYTES = 32;

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

/**
 * The HMAC key of a secret: the base64-decoded part after `whsec_` (what every Standard Webhooks library does with
 * such a secret), or, for a secret without that prefix (a `WEBHOOK_SECRET` of any other form), its UTF-8 bytes.
 */
export function signingKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX)
    ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** A `whsec_` secret whose key decodes to at least `minBytes`; any other string is no such secret. */
export function isWellFormedWebhookSecret(secret: string, minBytes = 16): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const body = secret.slice(SECRET_PREFIX.length);
  return /^[A-Za-z0-9+/]+={0,2}$/.test(body) && Buffer.from(body, 'base64').length >= minBytes;
}

/**
 * The `webhook-signature` header of the Standard Webhooks specification: `v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">`, one per key, separated by spaces (during a secret rotation the old and the new key
 * both sign, so a receiver holding either one verifies).
 *
 * @example
 * standardSignature([signingKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 */
export function standardSignature(
  keys: readonly Uint8Array[],
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  return keys
    .map(
      (key) => `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`,
    )
    .join(' ');
}
