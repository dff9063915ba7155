import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalStorage } from '../../src/storage/local-storage.js';
import { localStorageApp } from './local-storage-app.js';
import { readLocation } from '../../src/storage/read-location.js';
import { createS3Storage } from '../../src/storage/s3-storage.js';
import { StorageError } from '../../src/storage/storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { startTestS3 } from '../helpers/s3.js';

interface Harness {
  storage: Storage;
  /** Name of the query parameter that carries the signature in presigned URLs. */
  signatureParam: string;
  /** Smallest part size the storage accepts for all but the last part. */
  minPartBytes: number;
  stop(): Promise<void>;
}

async function startLocal(): Promise<Harness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'local-storage-contract-'));
  let base = '';
  const storage = createLocalStorage({
    root: path.join(dir, 'storage'),
    secret: randomBytes(32),
    publicBaseUrl: () => base,
  });
  const app = localStorageApp(storage);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    storage,
    signatureParam: 'X-Signature',
    // Local storage accepts any part size; use the S3 minimum anyway so both run the same scenario.
    minPartBytes: 5 * 1024 * 1024,
    async stop() {
      await storage.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startS3(): Promise<Harness> {
  const s3 = await startTestS3();
  const storage = createS3Storage({
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
    // Small pages so listing and prefix deletion cross page boundaries.
    listPageSize: 7,
  });
  return {
    storage,
    signatureParam: 'X-Amz-Signature',
    minPartBytes: 5 * 1024 * 1024,
    async stop() {
      await storage.close();
      await s3.stop();
    },
  };
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function expectStorageError(promise: Promise<unknown>, code: string): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  expect((error as StorageError).code).toBe(code);
  return error as StorageError;
}

describe.each([
  ['local', startLocal],
  ['s3', startS3],
] as const)('%s storage', (_name, start) => {
  let h: Harness;
  let storage: Storage;
  beforeAll(async () => {
    h = await start();
    storage = h.storage;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('stores strings, bytes and streams and reads them back with their metadata', async () => {
    await storage.putObject('c/put/a.txt', 'hello world', { contentType: 'text/plain' });
    await storage.putObject('c/put/b.bin', new Uint8Array([1, 2, 3, 4]));
    const streamed = randomBytes(100_000);
    await storage.putObject(
      'c/put/c.ts',
      Readable.from([streamed.subarray(0, 40_000), streamed.subarray(40_000)]),
      {
        contentType: 'video/mp2t',
        contentLength: streamed.length,
      },
    );

    expect(await storage.getObjectText('c/put/a.txt')).toBe('hello world');
    const { body, info } = await storage.getObject('c/put/c.ts');
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(streamed));
    expect(info).toMatchObject({ key: 'c/put/c.ts', size: 100_000, contentType: 'video/mp2t' });
    expect(info.etag).toMatch(/^".+"$/);
    expect(Buffer.from(await text((await storage.getObject('c/put/b.bin')).body))).toEqual(
      Buffer.from([1, 2, 3, 4]),
    );
  });

  it('uploads a file from disk', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'put-file-'));
    const data = randomBytes(300_000);
    await writeFile(path.join(dir, 'segment0.ts'), data);
    await storage.putFile('c/file/segment0.ts', path.join(dir, 'segment0.ts'), { contentType: 'video/mp2t' });
    await rm(dir, { recursive: true });
    const head = await storage.headObject('c/file/segment0.ts');
    expect(head).toMatchObject({ size: data.length, contentType: 'video/mp2t' });
    const { body } = await storage.getObject('c/file/segment0.ts');
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));
  });

  it('heads existing objects and answers null for missing ones', async () => {
    await storage.putObject('c/head/x.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    const info = await storage.headObject('c/head/x.m3u8');
    expect(info).toMatchObject({
      key: 'c/head/x.m3u8',
      size: 8,
      contentType: 'application/vnd.apple.mpegurl',
    });
    expect(info?.lastModified).toBeInstanceOf(Date);
    expect(await storage.headObject('c/head/missing.m3u8')).toBeNull();
  });

  it('reports a missing object as a permanent not_found error', async () => {
    const error = await expectStorageError(storage.getObject('c/missing/nothing.mp4'), 'not_found');
    expect(error.transient).toBe(false);
    await expectStorageError(storage.getObjectText('c/missing/nothing.m3u8'), 'not_found');
  });

  it('deletes objects, and deleting a missing object is not an error', async () => {
    await storage.putObject('c/delete/x.txt', 'x');
    await storage.deleteObject('c/delete/x.txt');
    expect(await storage.headObject('c/delete/x.txt')).toBeNull();
    await storage.deleteObject('c/delete/x.txt');
    await storage.deleteObject('c/delete/never-existed.txt');
  });

  it('lists every object under a prefix in key order, across pages', async () => {
    const keys = Array.from(
      { length: 23 },
      (_, i) => `c/list/v1_hls/segment${String(i).padStart(2, '0')}.ts`,
    );
    await Promise.all(keys.map((k, i) => storage.putObject(k, 'x'.repeat(i + 1))));
    await storage.putObject('c/list/v1.mp4', 'source');
    await storage.putObject('c/list/v1_hlsx/other.ts', 'other');

    const listed = await storage.listObjects('c/list/v1_hls/');
    expect(listed.map((o) => o.key)).toEqual(keys);
    expect(listed.map((o) => o.size)).toEqual(keys.map((_, i) => i + 1));
    expect((await storage.listObjects('c/list/v1')).length).toBe(25);
    expect(await storage.listObjects('c/list/none/')).toEqual([]);
  });

  it('deletes every object under a prefix and nothing else', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `c/prefix/v2_hls/segment${i}.ts`);
    await Promise.all(keys.map((k) => storage.putObject(k, 'segment')));
    await storage.putObject('c/prefix/v2.mp4', 'source');
    await storage.putObject('c/prefix/v2_hls2/keep.ts', 'keep');

    expect(await storage.deletePrefix('c/prefix/v2_hls/')).toBe(30);
    expect(await storage.listObjects('c/prefix/v2_hls/')).toEqual([]);
    expect((await storage.listObjects('c/prefix/')).map((o) => o.key)).toEqual([
      'c/prefix/v2.mp4',
      'c/prefix/v2_hls2/keep.ts',
    ]);
    expect(await storage.deletePrefix('c/prefix/v2_hls/')).toBe(0);
  });

  it('refuses to delete with an empty prefix', async () => {
    await expectStorageError(storage.deletePrefix(''), 'invalid_key');
  });

  it('refuses keys that could escape the storage', async () => {
    for (const key of ['', '/abs/key', 'a/../b', '..', 'a\\b', 'a\u0000b', 'a//b', 'a/']) {
      await expectStorageError(storage.putObject(key, 'x'), 'invalid_key');
      await expectStorageError(storage.presignGet(key, { expiresInSeconds: 60 }), 'invalid_key');
    }
  });

  it('presigns a GET that fetch can read whole and by byte range', async () => {
    const data = randomBytes(4096);
    await storage.putObject('c/presign/v.mp4', data, { contentType: 'video/mp4' });
    const url = await storage.presignGet('c/presign/v.mp4', { expiresInSeconds: 600 });

    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256(data));

    const part = await fetch(url, { headers: { Range: 'bytes=100-1123' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-1123/4096');
    expect(part.headers.get('content-length')).toBe('1024');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(data.subarray(100, 1124));

    const tail = await fetch(url, { headers: { Range: 'bytes=4000-' } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(data.subarray(4000));
  });

  it('tells a reader on this machine where to read an object: its own file (local) or a presigned URL (S3)', async () => {
    const data = randomBytes(4096);
    await storage.putObject('c/location/v.mp4', data, { contentType: 'video/mp4' });
    const location = await readLocation(storage, 'c/location/v.mp4', { expiresInSeconds: 600 });
    if (storage.kind === 'local') {
      // The object's own file, opened without the service: the same bytes, and nothing fetched over HTTP.
      expect(path.isAbsolute(location)).toBe(true);
      expect(storage.localPath('c/location/v.mp4')).toBe(location);
      expect(sha256(await readFile(location))).toBe(sha256(data));
    } else {
      expect(storage.localPath('c/location/v.mp4')).toBeUndefined();
      expect(location).toMatch(/^https?:\/\//);
      expect(location).toContain(h.signatureParam);
      expect(sha256(new Uint8Array(await (await fetch(location)).arrayBuffer()))).toBe(sha256(data));
    }
    for (const key of ['/abs/key', 'a/../b', '..']) {
      expect(() => storage.localPath(key)).toThrow(StorageError);
    }
  });

  it('presigns a PUT that stores what the client sends', async () => {
    const data = randomBytes(50_000);
    const url = await storage.presignPut('c/upload/source.mp4', {
      expiresInSeconds: 600,
      contentType: 'video/mp4',
    });
    const put = await fetch(url, { method: 'PUT', body: data, headers: { 'Content-Type': 'video/mp4' } });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toMatch(/^".+"$/);
    const head = await storage.headObject('c/upload/source.mp4');
    expect(head).toMatchObject({ size: data.length, contentType: 'video/mp4' });
    const { body } = await storage.getObject('c/upload/source.mp4');
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));
  });

  it('assembles a multipart upload from presigned part PUTs in part order', async () => {
    const key = 'c/multipart/big.mp4';
    const parts = [randomBytes(h.minPartBytes), randomBytes(h.minPartBytes), randomBytes(1000)];
    const { uploadId } = await storage.createMultipartUpload(key, { contentType: 'video/mp4' });
    // Upload out of order: the part number, not the arrival order, decides the position.
    const etags = new Map<number, string>();
    for (const n of [3, 1, 2]) {
      const url = await storage.presignUploadPart(key, uploadId, n, { expiresInSeconds: 600 });
      const res = await fetch(url, { method: 'PUT', body: parts[n - 1] });
      expect(res.status).toBe(200);
      const etag = res.headers.get('etag');
      expect(etag).toBeTruthy();
      etags.set(n, etag ?? '');
    }
    await storage.completeMultipartUpload(
      key,
      uploadId,
      [1, 2, 3].map((n) => ({ partNumber: n, etag: etags.get(n) ?? '' })),
    );

    const expected = Buffer.concat(parts);
    const head = await storage.headObject(key);
    expect(head).toMatchObject({ size: expected.length, contentType: 'video/mp4' });
    const { body } = await storage.getObject(key);
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(sha256(expected));
  });

  it('aborts a multipart upload so that it can no longer be completed', async () => {
    const key = 'c/multipart/aborted.mp4';
    const { uploadId } = await storage.createMultipartUpload(key);
    const url = await storage.presignUploadPart(key, uploadId, 1, { expiresInSeconds: 600 });
    const res = await fetch(url, { method: 'PUT', body: randomBytes(1000) });
    const etag = res.headers.get('etag') ?? '';
    await storage.abortMultipartUpload(key, uploadId);

    const error = await storage.completeMultipartUpload(key, uploadId, [{ partNumber: 1, etag }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).transient).toBe(false);
    expect(await storage.headObject(key)).toBeNull();
    const late = await fetch(url, { method: 'PUT', body: randomBytes(10) });
    expect(late.status).toBe(404);
  });

  it('refuses a presigned GET whose signature was tampered with', async () => {
    await storage.putObject('c/private/a.ts', 'secret');
    const url = new URL(await storage.presignGet('c/private/a.ts', { expiresInSeconds: 600 }));
    const signature = url.searchParams.get(h.signatureParam) ?? '';
    const first = signature[0] === 'a' ? 'b' : 'a';
    url.searchParams.set(h.signatureParam, first + signature.slice(1));
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('secret');
  });

  it('refuses a presigned GET whose signature was removed', async () => {
    await storage.putObject('c/private/b.ts', 'secret');
    const url = new URL(await storage.presignGet('c/private/b.ts', { expiresInSeconds: 600 }));
    url.searchParams.delete(h.signatureParam);
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('secret');
  });

  it('refuses a presigned GET for another key than the one signed', async () => {
    await storage.putObject('c/private/c.ts', 'secret');
    await storage.putObject('c/private/d.ts', 'other secret');
    const url = new URL(await storage.presignGet('c/private/c.ts', { expiresInSeconds: 600 }));
    url.pathname = url.pathname.replace('/c.ts', '/d.ts');
    const res = await fetch(url);
    expect(res.status).toBe(403);
  });

  it('refuses a presigned GET after it expires', async () => {
    await storage.putObject('c/private/e.ts', 'secret');
    const url = await storage.presignGet('c/private/e.ts', { expiresInSeconds: 1 });
    expect((await fetch(url)).status).toBe(200);
    // Expiry has one-second resolution: two seconds later the URL is past its lifetime on every storage.
    await sleep(2100);
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('secret');
  });

  it('answers ping', async () => {
    await expect(storage.ping()).resolves.toBeUndefined();
  });
});
