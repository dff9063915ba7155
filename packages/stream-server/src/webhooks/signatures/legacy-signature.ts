import { createHmac, timingSafeEqual } from 'node:crypto';

// The signature deliveries carried before the Standard Webhooks headers. Deprecated: still sent with
// WEBHOOK_SIGNATURE_FORMAT=legacy or both for one release, then removed (docs/webhooks.md).

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const LEGACY_SIGNATURE_HEADER = 'notetaker-signature';

/** The legacy header's value; the HMAC key is the secret string itself. */
export function legacySignature(secret: string, body: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/**
 * Verifies a legacy delivery as a host app did: recompute the HMAC over the raw body, compare in constant time, and
 * refuse old timestamps (replays).
 *
 * @example
 * if (!verifyLegacyWebhook(secret, rawBody, req.headers['notetaker-signature'])) return res.status(400).end();
 */
export function verifyLegacyWebhook(
  secret: string,
  body: string,
  header: string | null | undefined,
  options: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(
    header.split(',').map((kv) => kv.trim().split('=', 2) as [string, string]),
  );
  const t = Number(parts['t']);
  const v1 = parts['v1'];
  if (!Number.isInteger(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
