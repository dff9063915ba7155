import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readMp4Tracks } from '../../src/media/mp4-tracks.js';
import { copyPlanFromIndex, matchesOptimisticPlan } from '../../src/media/optimistic-copy.js';
import { createS3Storage } from '../../src/storage/s3-storage.js';
import type { S3StorageOptions } from '../../src/storage/s3-storage.js';
import { StorageError } from '../../src/storage/storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { makeTestMedia } from '../helpers/media.js';
import { startTestS3 } from '../helpers/s3.js';
import type { TestS3 } from '../helpers/s3.js';

let s3: TestS3;
const opened: Storage[] = [];

function connect(overrides: Partial<S3StorageOptions> = {}): Storage {
  const storage = createS3Storage({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
    ...overrides,
  });
  opened.push(storage);
  return storage;
}

async function failure(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

beforeAll(async () => {
  s3 = await startTestS3();
});
afterEach(() => {
  s3.setFaults(undefined);
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await s3?.stop();
});

describe('the verifying S3 proxy', () => {
  it('refuses an anonymous GET that s3rver alone would serve', async () => {
    await connect().putObject('private/a.ts', 'secret');
    const direct = await fetch(`${s3.rawEndpoint}/${s3.bucket}/private/a.ts`);
    expect(direct.status).toBe(200);
    const proxied = await fetch(`${s3.endpoint}/${s3.bucket}/private/a.ts`);
    expect(proxied.status).toBe(403);
    expect(await proxied.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses header-signed requests made with the wrong secret', async () => {
    const impostor = connect({ secretAccessKey: 'not-the-secret', maxAttempts: 1 });
    const error = await failure(impostor.getObjectText('private/a.ts'));
    expect(error.code).toBe('access_denied');
    expect(error.transient).toBe(false);
    const put = await failure(impostor.putObject('private/forged.ts', 'forged'));
    expect(put.code).toBe('access_denied');
    expect(await connect().headObject('private/forged.ts')).toBeNull();
  });

  it('refuses a presigned PUT with a tampered signature and stores nothing', async () => {
    const url = new URL(await connect().presignPut('private/upload.mp4', { expiresInSeconds: 60 }));
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    url.searchParams.set('X-Amz-Signature', (signature[0] === '0' ? '1' : '0') + signature.slice(1));
    const res = await fetch(url, { method: 'PUT', body: 'forged' });
    expect(res.status).toBe(403);
    expect(await connect().headObject('private/upload.mp4')).toBeNull();
  });

  it('passes CORS preflights through unsigned to the bucket rules', async () => {
    const url = await connect().presignGet('private/a.ts', { expiresInSeconds: 60 });
    const res = await fetch(url, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'range',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toBe('range');
  });
});

describe('S3 storage', () => {
  it('pages through listings with ListObjectsV2', async () => {
    const storage = connect({ listPageSize: 5 });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => storage.putObject(`paged/k${String(i).padStart(2, '0')}`, 'x')),
    );
    const before = s3.requests.length;
    expect((await storage.listObjects('paged/')).length).toBe(12);
    const lists = s3.requests
      .slice(before)
      .filter((r) => r.method === 'GET' && r.search.includes('list-type=2'));
    expect(lists.length).toBe(3);
  });

  it('retries 5xx answers and succeeds when the storage recovers', async () => {
    const storage = connect();
    await storage.putObject('retry/a.m3u8', '#EXTM3U\n');
    let failures = 0;
    s3.setFaults((req) =>
      req.method === 'GET' && req.path.endsWith('/retry/a.m3u8') && failures++ < 2
        ? { status: 500 }
        : undefined,
    );
    expect(await storage.getObjectText('retry/a.m3u8')).toBe('#EXTM3U\n');
    expect(failures).toBe(3);
  });

  it('reports persistent throttling as a transient error after maxAttempts', async () => {
    const storage = connect({ maxAttempts: 2 });
    let attempts = 0;
    s3.setFaults((req) => (req.path.endsWith('/retry/slow.ts') ? (attempts++, { status: 503 }) : undefined));
    const error = await failure(storage.putObject('retry/slow.ts', 'x'));
    expect(error.transient).toBe(true);
    expect(error.code).toBe('unavailable');
    expect(attempts).toBe(2);
  });

  it('reports dropped connections as transient', async () => {
    const storage = connect({ maxAttempts: 1 });
    s3.setFaults((req) => (req.path.endsWith('/retry/reset.ts') ? 'reset' : undefined));
    const error = await failure(storage.getObject('retry/reset.ts'));
    expect(error.transient).toBe(true);
  });

  it('reports a 4xx answer as permanent', async () => {
    const storage = connect();
    let attempts = 0;
    s3.setFaults((req) =>
      req.path.endsWith('/retry/bad.ts') ? (attempts++, { status: 400, code: 'InvalidArgument' }) : undefined,
    );
    const error = await failure(storage.putObject('retry/bad.ts', 'x'));
    expect(error.transient).toBe(false);
    expect(attempts).toBe(1);
  });

  it('does not mistake a refused HEAD for a missing object', async () => {
    const storage = connect({ maxAttempts: 1 });
    s3.setFaults((req) => (req.method === 'HEAD' ? { status: 403 } : undefined));
    const error = await failure(storage.headObject('retry/anything.ts'));
    expect(error.code).toBe('access_denied');
  });

  it('streams a file from disk without hashing it, and re-reads it when the upload is retried', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 's3-put-file-'));
    try {
      const data = randomBytes(2 * 1024 * 1024 + 17); // a segment-sized file
      await writeFile(path.join(dir, 'segment.ts'), data);
      const payloadHashes: (string | string[] | undefined)[] = [];
      s3.setFaults((req) => {
        if (req.method !== 'PUT' || !req.path.endsWith('/retry/segment.ts')) return undefined;
        payloadHashes.push(req.headers['x-amz-content-sha256']);
        return payloadHashes.length === 1 ? 'reset' : undefined;
      });
      const storage = connect();
      await storage.putFile('retry/segment.ts', path.join(dir, 'segment.ts'), { contentType: 'video/mp2t' });
      // Signed headers, unsigned body: no SHA-256 pass over every byte of every segment.
      expect(payloadHashes).toEqual(['UNSIGNED-PAYLOAD', 'UNSIGNED-PAYLOAD']);
      const { body, info } = await storage.getObject('retry/segment.ts');
      const hash = createHash('sha256');
      for await (const chunk of body) hash.update(chunk as Buffer);
      expect(hash.digest('hex')).toBe(sha256(data));
      expect(info.size).toBe(data.length);
      expect(info.contentType).toBe('video/mp2t');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets the service read an MP4’s track headers through a presigned GET (range requests)', async () => {
    const storage = connect();
    const dir = await mkdtemp(path.join(tmpdir(), 's3-tracks-'));
    try {
      const file = await makeTestMedia(dir, 'h264-aac-moov-end', { seconds: 2 });
      await storage.putFile('tracks/source.mp4', file, { contentType: 'video/mp4' });
      const url = await storage.presignGet('tracks/source.mp4', { expiresInSeconds: 300 });
      const tracks = await readMp4Tracks(url);
      expect(tracks?.map((track) => [track.handler, track.sampleEntry])).toEqual([
        ['vide', 'avc1'],
        ['soun', 'mp4a'],
      ]);
      expect(matchesOptimisticPlan(copyPlanFromIndex(tracks)!)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails ping for a bucket that does not exist', async () => {
    const error = await failure(connect({ bucket: 'no-such-bucket', maxAttempts: 1 }).ping());
    expect(error.transient).toBe(false);
  });

  it('requires a length for stream bodies', async () => {
    const { Readable } = await import('node:stream');
    const error = await failure(connect().putObject('retry/stream.ts', Readable.from([Buffer.from('x')])));
    expect(error.code).toBe('invalid_request');
  });
});
