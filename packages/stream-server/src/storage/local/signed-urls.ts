import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signed-URL scheme of local storage: an HMAC-SHA256 over the method, the key, the expiry, the multipart part
 * (if any) and each upload condition, carried in the query as `X-Expires` and `X-Signature`. Changing any of them
 * (another key, method, length, type or a later expiry) makes the signature fail. Pure: no I/O, the clock is an
 * argument.
 */

/**
 * What a presigned PUT may be bound to, each signed into the URL as a query parameter: the exact length, a
 * largest length, the content type, and create-only (the `If-None-Match: *` of S3).
 */
export const UPLOAD_CONDITIONS = ['X-Length', 'X-Max-Length', 'X-Content-Type', 'X-Create-Only'] as const;
export type UploadCondition = (typeof UPLOAD_CONDITIONS)[number];
export type UploadConditions = Partial<Record<UploadCondition, string>>;

/** What a signed URL allows: one method on one key, optionally one multipart part and upload conditions. */
export interface SignedRequest {
  method: 'GET' | 'PUT';
  key: string;
  part?: { uploadId: string; partNumber: number } | undefined;
  conditions?: UploadConditions | undefined;
}

/** Why a request's signature was refused (the codes the routes answer with, all 403). */
export type SignatureRefusal = 'signature_missing' | 'signature_invalid' | 'url_expired';

/** The signing key from a secret; at least 16 bytes. */
export function signingKey(secret: string | Uint8Array): Buffer {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (key.length < 16) throw new RangeError('The local storage secret must be at least 16 bytes long');
  return key;
}

function hmac(key: Uint8Array, parts: readonly string[]): string {
  return createHmac('sha256', key).update(parts.join('\n')).digest('base64url');
}

/**
 * The query of a URL that allows `request` until `expiresAt` (Unix seconds).
 *
 * @example
 * signRequest(key, { method: 'GET', key: 'videos/u1/v1.mp4' }, 1_900_000_000).toString();
 * // 'X-Expires=1900000000&X-Signature=…'
 */
export function signRequest(key: Uint8Array, request: SignedRequest, expiresAt: number): URLSearchParams {
  const signed = [request.method, request.key, String(expiresAt)];
  const query = new URLSearchParams();
  if (request.part) {
    signed.push(request.part.uploadId, String(request.part.partNumber));
    query.set('uploadId', request.part.uploadId);
    query.set('partNumber', String(request.part.partNumber));
  }
  for (const name of UPLOAD_CONDITIONS) {
    const value = request.conditions?.[name];
    if (value === undefined) continue;
    signed.push(`${name}=${value}`);
    query.set(name, value);
  }
  query.set('X-Expires', String(expiresAt));
  query.set('X-Signature', hmac(key, signed));
  return query;
}

/**
 * Checks the signature a request to `method` on `key` carries in `query`, at `nowMs`: `null` when it is valid
 * and unexpired, else why it is refused. A GET's signature never covers a multipart part.
 */
export function verifyRequest(
  key: Uint8Array,
  method: 'GET' | 'PUT',
  objectKey: string,
  query: URLSearchParams,
  nowMs: number,
): SignatureRefusal | null {
  const expires = query.get('X-Expires');
  const signature = query.get('X-Signature');
  if (!expires || !signature) return 'signature_missing';
  const uploadId = query.get('uploadId');
  const partNumber = query.get('partNumber');
  const signed = [method, objectKey, expires];
  if (method === 'PUT' && (uploadId !== null || partNumber !== null))
    signed.push(uploadId ?? '', partNumber ?? '');
  for (const name of UPLOAD_CONDITIONS) {
    const value = query.get(name);
    if (value !== null) signed.push(`${name}=${value}`);
  }
  const expected = Buffer.from(hmac(key, signed));
  const given = Buffer.from(signature);
  if (!/^\d{1,15}$/.test(expires) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return 'signature_invalid';
  }
  if (nowMs / 1000 > Number(expires)) return 'url_expired';
  return null;
}

/** The upload conditions a (verified) PUT's query carries. */
export function uploadConditions(query: URLSearchParams): {
  length?: number;
  maxLength?: number;
  contentType?: string;
  createOnly: boolean;
} {
  const number = (name: UploadCondition) => {
    const value = query.get(name);
    return value === null ? undefined : Number(value);
  };
  const length = number('X-Length');
  const maxLength = number('X-Max-Length');
  const contentType = query.get('X-Content-Type') ?? undefined;
  return {
    ...(length === undefined ? {} : { length }),
    ...(maxLength === undefined ? {} : { maxLength }),
    ...(contentType === undefined ? {} : { contentType }),
    createOnly: query.get('X-Create-Only') === '1',
  };
}

/** A key as a URL path: each segment percent-encoded, the slashes kept. */
export function encodeKeyPath(objectKey: string): string {
  return objectKey.split('/').map(encodeURIComponent).join('/');
}

/**
 * The absolute URL of a signed request: `<publicBaseUrl><routePrefix>/o/<key>?<signed query>`.
 *
 * @example
 * signedUrl({ key, publicBaseUrl: 'http://localhost:8080', routePrefix: '/storage', nowMs: Date.now() },
 *   { method: 'GET', key: 'videos/u1/v1.mp4' }, 3600);
 */
export function signedUrl(
  settings: { key: Uint8Array; publicBaseUrl: string; routePrefix: string; nowMs: number },
  request: SignedRequest,
  expiresInSeconds: number,
): string {
  const expiresAt = Math.floor(settings.nowMs / 1000) + expiresInSeconds;
  const query = signRequest(settings.key, request, expiresAt);
  const base = settings.publicBaseUrl.replace(/\/+$/, '');
  return `${base}${settings.routePrefix}/o/${encodeKeyPath(request.key)}?${query.toString()}`;
}
