import { describe, expect, it } from 'vitest';

import { createPresignCache } from '../src/videos/object-urls.js';
import { createGetPresigner } from '../src/storage/s3-presign-get.js';
import { signingWindow } from '../src/storage/signing-window.js';
import { signedUrl, signingKey, verifyRequest } from '../src/storage/local/signed-urls.js';

const HOUR = 3600;
const TTL = 6 * HOUR;
const at = (iso: string) => Date.parse(iso);

describe('signingWindow', () => {
  it('signs at the start of the clock-aligned window and lives the window plus the TTL from there', () => {
    expect(signingWindow(at('2026-12-06T10:20:30.500Z'), HOUR, TTL)).toEqual({
      signedAt: new Date('2026-12-06T10:00:00Z'),
      expiresInSeconds: HOUR + TTL,
    });
  });

  it('keeps every hand-out valid between TTL and TTL + one window', () => {
    for (const handOut of ['2026-12-06T10:00:00Z', '2026-12-06T10:00:01Z', '2026-12-06T10:59:59.999Z']) {
      const now = at(handOut);
      const { signedAt, expiresInSeconds } = signingWindow(now, HOUR, TTL);
      const remaining = (signedAt.getTime() + expiresInSeconds * 1000 - now) / 1000;
      expect(remaining).toBeGreaterThanOrEqual(TTL);
      expect(remaining).toBeLessThanOrEqual(TTL + HOUR);
    }
  });

  it('shrinks the window so TTL + window stays within 7 days, and signs per request at 0', () => {
    const week = 7 * 24 * HOUR;
    expect(signingWindow(at('2026-12-06T10:20:30Z'), HOUR, week)).toEqual({
      signedAt: new Date('2026-12-06T10:20:30Z'),
      expiresInSeconds: week,
    });
    expect(signingWindow(at('2026-12-06T10:20:30Z'), HOUR, week - 60).expiresInSeconds).toBe(week);
    expect(signingWindow(at('2026-12-06T10:20:30.700Z'), 0, TTL).signedAt).toEqual(
      new Date('2026-12-06T10:20:30Z'),
    );
  });
});

describe('URLs signed at a window start', () => {
  const presign = createGetPresigner({
    region: 'us-east-1',
    bucket: 'videos',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }),
  });

  it('S3: byte-identical within a window, with the window start as X-Amz-Date and the cache headers signed in', async () => {
    const early = signingWindow(at('2026-12-06T10:01:00Z'), HOUR, TTL);
    const late = signingWindow(at('2026-12-06T10:59:00Z'), HOUR, TTL);
    const headers = { cacheControl: 'public', expires: 'Sun, 06 Dec 2026 17:00:00 GMT' };
    const a = await presign('videos/u/v_hls/segment0.ts', early.expiresInSeconds, early.signedAt, headers);
    const b = await presign('videos/u/v_hls/segment0.ts', late.expiresInSeconds, late.signedAt, headers);
    expect(a).toBe(b);
    const url = new URL(a);
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261206T100000Z');
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(HOUR + TTL));
    expect(url.searchParams.get('response-cache-control')).toBe('public');
    expect(url.searchParams.get('response-expires')).toBe(headers.expires);
    const next = signingWindow(at('2026-12-06T11:00:00Z'), HOUR, TTL);
    expect(
      await presign('videos/u/v_hls/segment0.ts', next.expiresInSeconds, next.signedAt, headers),
    ).not.toBe(a);
    expect(
      await presign('videos/u/v_hls/segment1.ts', early.expiresInSeconds, early.signedAt, headers),
    ).not.toBe(a);
  });

  it('local: byte-identical within a window; another object, a tampered or an expired URL is refused', () => {
    const key = signingKey('a-local-secret-of-enough-bytes');
    const sign = (nowMs: number, objectKey = 'videos/u/v_hls/segment0.ts') => {
      const window = signingWindow(nowMs, HOUR, TTL);
      return signedUrl(
        { key, publicBaseUrl: 'http://h', routePrefix: '/storage', nowMs: window.signedAt.getTime() },
        { method: 'GET', key: objectKey },
        window.expiresInSeconds,
      );
    };
    const a = sign(at('2026-12-06T10:01:00Z'));
    expect(sign(at('2026-12-06T10:59:59Z'))).toBe(a);
    const query = new URL(a).searchParams;
    const check = (objectKey: string, q: URLSearchParams, nowMs: number) =>
      verifyRequest(key, 'GET', objectKey, q, nowMs);
    expect(check('videos/u/v_hls/segment0.ts', query, at('2026-12-06T16:59:59Z'))).toBeNull();
    expect(check('videos/u/v_hls/segment0.ts', query, at('2026-12-06T17:00:01Z'))).toBe('url_expired');
    expect(check('videos/u/v_hls/segment1.ts', query, at('2026-12-06T10:30:00Z'))).toBe('signature_invalid');
    const tampered = new URLSearchParams(query);
    tampered.set('X-Expires', String(Number(query.get('X-Expires')) + 3600));
    expect(check('videos/u/v_hls/segment0.ts', tampered, at('2026-12-06T10:30:00Z'))).toBe(
      'signature_invalid',
    );
  });
});

describe('createPresignCache with a signing window', () => {
  it('signs each object once per window and hands the same URL to every request of that window', async () => {
    let time = at('2026-12-06T10:00:05Z');
    const calls: Array<{ key: string; signedAt: string; expiresInSeconds: number }> = [];
    const cache = createPresignCache({
      presign: async (key, window) => {
        calls.push({
          key,
          signedAt: window.signedAt.toISOString(),
          expiresInSeconds: window.expiresInSeconds,
        });
        return `${key}@${window.signedAt.toISOString()}`;
      },
      ttlSeconds: TTL,
      windowSeconds: HOUR,
      now: () => time,
    });
    const first = await cache.get('a');
    time = at('2026-12-06T10:59:59Z');
    expect(await cache.get('a')).toBe(first);
    time = at('2026-12-06T11:00:00Z');
    expect(await cache.get('a')).toBe('a@2026-12-06T11:00:00.000Z');
    expect(calls).toEqual([
      { key: 'a', signedAt: '2026-12-06T10:00:00.000Z', expiresInSeconds: HOUR + TTL },
      { key: 'a', signedAt: '2026-12-06T11:00:00.000Z', expiresInSeconds: HOUR + TTL },
    ]);
  });
});
