import { describe, expect, it } from 'vitest';

import {
  signedUrl,
  signingKey,
  signRequest,
  uploadConditions,
  verifyRequest,
  type SignedRequest,
} from '../../src/storage/local/signed-urls.js';

const KEY = signingKey('a-test-secret-that-is-long-enough');
const NOW = 1_900_000_000_000;
const EXPIRES = NOW / 1000 + 600;

const verify = (method: 'GET' | 'PUT', objectKey: string, query: URLSearchParams, nowMs = NOW) =>
  verifyRequest(KEY, method, objectKey, query, nowMs);

describe('signed URLs', () => {
  it('verifies what it signed, until it expires', () => {
    const query = signRequest(KEY, { method: 'GET', key: 'videos/u1/v1.mp4' }, EXPIRES);
    expect(verify('GET', 'videos/u1/v1.mp4', query)).toBeNull();
    expect(verify('GET', 'videos/u1/v1.mp4', query, EXPIRES * 1000)).toBeNull();
    expect(verify('GET', 'videos/u1/v1.mp4', query, EXPIRES * 1000 + 1)).toBe('url_expired');
  });

  it('refuses a query without a signature or an expiry', () => {
    const query = signRequest(KEY, { method: 'GET', key: 'a.ts' }, EXPIRES);
    const noSignature = new URLSearchParams(query);
    noSignature.delete('X-Signature');
    const noExpiry = new URLSearchParams(query);
    noExpiry.delete('X-Expires');
    expect(verify('GET', 'a.ts', noSignature)).toBe('signature_missing');
    expect(verify('GET', 'a.ts', noExpiry)).toBe('signature_missing');
  });

  it('refuses a tampered signature or a later expiry', () => {
    const query = signRequest(KEY, { method: 'GET', key: 'a.ts' }, EXPIRES);
    const signature = query.get('X-Signature') ?? '';
    const tampered = new URLSearchParams(query);
    tampered.set('X-Signature', `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`);
    expect(verify('GET', 'a.ts', tampered)).toBe('signature_invalid');
    const extended = new URLSearchParams(query);
    extended.set('X-Expires', String(EXPIRES + 3600));
    expect(verify('GET', 'a.ts', extended)).toBe('signature_invalid');
    const notANumber = new URLSearchParams(query);
    notANumber.set('X-Expires', `${EXPIRES}.0`);
    expect(verify('GET', 'a.ts', notANumber)).toBe('signature_invalid');
  });

  it('binds the signature to its key, its method and its secret', () => {
    const query = signRequest(KEY, { method: 'GET', key: 'videos/u1/a.ts' }, EXPIRES);
    expect(verify('GET', 'videos/u1/b.ts', query)).toBe('signature_invalid');
    expect(verify('PUT', 'videos/u1/a.ts', query)).toBe('signature_invalid');
    const otherSecret = signingKey('another-secret-that-is-long-enough');
    expect(verifyRequest(otherSecret, 'GET', 'videos/u1/a.ts', query, NOW)).toBe('signature_invalid');
  });

  it('binds an upload to its length, largest length, content type and create-only', () => {
    const request: SignedRequest = {
      method: 'PUT',
      key: 'videos/u1/v1.mp4',
      conditions: { 'X-Length': '1000', 'X-Content-Type': 'video/mp4', 'X-Create-Only': '1' },
    };
    const query = signRequest(KEY, request, EXPIRES);
    expect(verify('PUT', 'videos/u1/v1.mp4', query)).toBeNull();
    expect(uploadConditions(query)).toEqual({ length: 1000, contentType: 'video/mp4', createOnly: true });

    for (const [name, value] of [
      ['X-Length', '1001'],
      ['X-Content-Type', 'text/html'],
      ['X-Max-Length', '5000'],
    ] as const) {
      const changed = new URLSearchParams(query);
      changed.set(name, value);
      expect(verify('PUT', 'videos/u1/v1.mp4', changed), name).toBe('signature_invalid');
    }
    const replaceable = new URLSearchParams(query);
    replaceable.delete('X-Create-Only');
    expect(verify('PUT', 'videos/u1/v1.mp4', replaceable)).toBe('signature_invalid');
  });

  it('binds a part URL to its upload and part number, and a whole-object URL to no part', () => {
    const part = signRequest(
      KEY,
      { method: 'PUT', key: 'v.bin', part: { uploadId: 'a'.repeat(32), partNumber: 2 } },
      EXPIRES,
    );
    expect(verify('PUT', 'v.bin', part)).toBeNull();
    const otherPart = new URLSearchParams(part);
    otherPart.set('partNumber', '3');
    expect(verify('PUT', 'v.bin', otherPart)).toBe('signature_invalid');
    const otherUpload = new URLSearchParams(part);
    otherUpload.set('uploadId', 'b'.repeat(32));
    expect(verify('PUT', 'v.bin', otherUpload)).toBe('signature_invalid');

    const whole = signRequest(KEY, { method: 'PUT', key: 'v.bin' }, EXPIRES);
    const asPart = new URLSearchParams(whole);
    asPart.set('uploadId', 'a'.repeat(32));
    asPart.set('partNumber', '1');
    expect(verify('PUT', 'v.bin', asPart)).toBe('signature_invalid');
  });

  it('builds the URL under the public base and route prefix, each key segment encoded', () => {
    const url = new URL(
      signedUrl(
        { key: KEY, publicBaseUrl: 'https://media.example/app/', routePrefix: '/storage', nowMs: NOW },
        { method: 'GET', key: "v/it's 100%/ü.ts" },
        60,
      ),
    );
    expect(url.origin + url.pathname).toBe("https://media.example/app/storage/o/v/it's%20100%25/%C3%BC.ts");
    expect(url.searchParams.get('X-Expires')).toBe(String(NOW / 1000 + 60));
    expect(verify('GET', "v/it's 100%/ü.ts", url.searchParams)).toBeNull();
  });

  it('refuses a secret shorter than 16 bytes', () => {
    expect(() => signingKey('short')).toThrow(RangeError);
    expect(() => signingKey(new Uint8Array(15))).toThrow(RangeError);
    expect(signingKey(new Uint8Array(16))).toHaveLength(16);
  });
});
