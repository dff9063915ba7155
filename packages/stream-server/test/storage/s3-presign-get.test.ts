import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createGetPresigner,
  objectBaseUrl,
  type ResponseHeaderOverrides,
} from '../../src/storage/s3-presign-get.js';
import { createS3Storage } from '../../src/storage/s3-storage.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';

describe('objectBaseUrl', () => {
  const base = (options: Partial<Parameters<typeof objectBaseUrl>[0]>) =>
    objectBaseUrl({ region: 'eu-west-3', bucket: 'videos', forcePathStyle: false, ...options }).href;

  it('uses the virtual-hosted style on AWS by default', () => {
    expect(base({})).toBe('https://videos.s3.eu-west-3.amazonaws.com/');
  });
  it('puts the bucket in the path when asked, or when the name cannot be a host label', () => {
    expect(base({ forcePathStyle: true })).toBe('https://s3.eu-west-3.amazonaws.com/videos/');
    expect(base({ bucket: 'my.videos' })).toBe('https://s3.eu-west-3.amazonaws.com/my.videos/');
    expect(base({ endpoint: 'http://127.0.0.1:9000' })).toBe('http://127.0.0.1:9000/videos/');
  });
  it('keeps a custom endpoint, its port and its path', () => {
    expect(base({ endpoint: 'https://acct.r2.cloudflarestorage.com' })).toBe(
      'https://videos.acct.r2.cloudflarestorage.com/',
    );
    expect(base({ endpoint: 'http://minio:9000/s3/', forcePathStyle: true })).toBe(
      'http://minio:9000/s3/videos/',
    );
  });
});

/** The AWS SDK's own SigV4 presign of the GET `url` names, as its S3 presigner makes it. */
function referencePresign(
  url: URL,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  signingDate: Date,
  expiresIn: number,
  query: Record<string, string> = {},
) {
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials,
    sha256: Sha256,
    uriEscapePath: false,
  });
  return signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: url.pathname,
      // What the SDK's S3 presigner sends: an unsigned payload, hoisted into the query.
      headers: { host: url.host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
      query,
    },
    { signingDate, expiresIn },
  );
}

describe('createGetPresigner', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    sessionToken: 'token/with+chars=',
  };
  const now = new Date('2026-11-30T12:34:56Z');

  it('signs exactly as the reference SigV4 implementation does, session token and awkward keys included', async () => {
    const presign = createGetPresigner({
      region: 'us-east-1',
      bucket: 'examplebucket',
      forcePathStyle: false,
      credentials: async () => credentials,
    });
    const key = "videos/u 1/ünï côdé/(it's)*!~segment0.ts";
    const url = new URL(await presign(key, 3600, now));
    const query = Object.fromEntries(url.searchParams);
    const reference = await referencePresign(url, credentials, now, 3600);
    expect(url.pathname).toBe('/videos/u%201/%C3%BCn%C3%AF%20c%C3%B4d%C3%A9/%28it%27s%29%2A%21~segment0.ts');
    expect(query['X-Amz-Security-Token']).toBe(credentials.sessionToken);
    expect(query).toEqual(reference.query);
  });

  it('signs each URL with its own moment, life, headers and credentials, however they alternate', async () => {
    let current = credentials;
    const presign = createGetPresigner({
      region: 'us-east-1',
      bucket: 'examplebucket',
      forcePathStyle: false,
      credentials: async () => current,
    });
    const rotated = { ...credentials, accessKeyId: 'AKIDROTATED', sessionToken: 'another-token' };
    const later = new Date('2026-11-30T13:00:00Z');
    const headers = { cacheControl: 'public', expires: 'Mon, 30 Nov 2026 20:00:00 GMT' };
    const cases: Array<{
      creds: typeof credentials;
      at: Date;
      expires: number;
      headers: ResponseHeaderOverrides;
    }> = [
      { creds: credentials, at: now, expires: 3600, headers: {} },
      { creds: credentials, at: now, expires: 3600, headers },
      { creds: credentials, at: later, expires: 3600, headers },
      { creds: credentials, at: later, expires: 7200, headers },
      { creds: rotated, at: later, expires: 7200, headers },
      { creds: rotated, at: later, expires: 7200, headers: {} },
      { creds: credentials, at: now, expires: 3600, headers: {} },
    ];
    for (const [index, { creds, at, expires, headers: overrides }] of cases.entries()) {
      current = creds;
      const key = `videos/u/v_hls/segment${index}.ts`;
      const url = new URL(await presign(key, expires, at, overrides));
      const reference = await referencePresign(url, creds, at, expires, {
        ...(overrides.cacheControl ? { 'response-cache-control': overrides.cacheControl } : {}),
        ...(overrides.expires ? { 'response-expires': overrides.expires } : {}),
      });
      expect(Object.fromEntries(url.searchParams), `case ${index}`).toEqual(reference.query);
    }
  });
});

describe('presigned GETs against the verifying S3 test server', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3();
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('are accepted for keys with spaces and non-ASCII characters, and refused once tampered with', async () => {
    const storage = createS3Storage({ ...s3, forcePathStyle: true });
    const key = "videos/u 1/ünï côdé/(it's)*!~segment0.ts";
    await storage.putObject(key, 'segment bytes', { contentType: 'video/mp2t' });
    const url = await storage.presignGet(key, { expiresInSeconds: 60 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('segment bytes');

    const other = new URL(url);
    other.pathname = other.pathname.replace('segment0', 'segment1');
    expect((await fetch(other)).status).toBe(403);
    const longer = new URL(url);
    longer.searchParams.set('X-Amz-Expires', '600');
    expect((await fetch(longer)).status).toBe(403);
  });
});
