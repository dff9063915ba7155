import { LEGACY_SIGNATURE_HEADER, legacySignature } from './legacy-signature.js';
import { signingKey, standardSignature } from './standard-signature.js';

/** Which signature headers deliveries carry (`WEBHOOK_SIGNATURE_FORMAT`). */
export const SignatureFormat = {
  /** `webhook-id`, `webhook-timestamp`, `webhook-signature` (Standard Webhooks): the default. */
  Standard: 'standard',
  /** `Notetaker-Signature` only (deprecated: removed in the next release). */
  Legacy: 'legacy',
  /** Both sets, while receivers move to the standard one. */
  Both: 'both',
} as const;
export type SignatureFormat = (typeof SignatureFormat)[keyof typeof SignatureFormat];

/**
 * The signature headers of one attempt: `secrets` are the endpoint's current secret first, then any previous one
 * still valid after a rotation (the standard header carries a signature per secret; the legacy one, the current only).
 */
export function signatureHeaders(
  format: SignatureFormat,
  secrets: readonly [string, ...string[]],
  eventId: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (format !== SignatureFormat.Legacy) {
    headers['webhook-id'] = eventId;
    headers['webhook-timestamp'] = String(timestampSeconds);
    headers['webhook-signature'] = standardSignature(
      secrets.map(signingKey),
      eventId,
      timestampSeconds,
      body,
    );
  }
  if (format !== SignatureFormat.Standard) {
    headers[LEGACY_SIGNATURE_HEADER] = legacySignature(secrets[0], body, timestampSeconds);
  }
  return headers;
}
