import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRangeHeader } from '../../src/http/routes/local-storage-routes.js';
import { createLocalStorage } from '../../src/storage/local-storage.js';
import { localStorageApp } from './local-storage-app.js';
import type { LocalStorage } from '../../src/storage/local-storage.js';
import { StorageError } from '../../src/storage/storage.js';

const run = promisify(execFile);
const SECRET = 'a-test-secret-that-is-long-enough';
const BASE = 'http://storage.test';

let dir: string;
let root: string;
let storage: LocalStorage;
let app: Hono;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'local-storage-'));
  root = path.join(dir, 'root');
  storage = createLocalStorage({ root, secret: SECRET, publicBaseUrl: () => BASE });
  app = localStorageApp(storage);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A URL signed exactly as the storage signs it, for keys the storage itself would refuse to sign. */
function forgeSignedUrl(rawPath: string, key: string, method = 'GET'): string {
  const expires = Math.floor(Date.now() / 1000) + 600;
  const signature = createHmac('sha256', SECRET).update(`${method}\n${key}\n${expires}`).digest('base64url');
  return `${BASE}/storage/o/${rawPath}?X-Expires=${expires}&X-Signature=${signature}`;
}

async function errorBody(res: Response): Promise<{ error: { code: string; message: string } }> {
  expect(res.headers.get('content-type')).toContain('application/json');
  return (await res.json()) as { error: { code: string; message: string } };
}

describe('local storage routes', () => {
  it('refuses keys that climb out of the storage folder, even when validly signed', async () => {
    await writeFile(path.join(dir, 'secret.txt'), 'TOP SECRET');
    await storage.putObject('inside.txt', 'inside');
    for (const [rawPath, key] of [
      ['..%2Fsecret.txt', '../secret.txt'],
      ['..%2F..%2Froot%2Fobjects%2Finside.txt', '../../root/objects/inside.txt'],
      ['a%5C..%5C..%5Csecret.txt', 'a\\..\\..\\secret.txt'],
      ['inside.txt%00.png', 'inside.txt\u0000.png'],
      ['%2Fetc%2Fpasswd', '/etc/passwd'],
    ] as const) {
      const res = await app.request(forgeSignedUrl(rawPath, key));
      expect(res.status).toBe(400);
      expect((await errorBody(res)).error.code).toBe('invalid_key');
    }
    // Dot segments are resolved by the URL parser before routing: they never reach a file.
    const dotted = await app.request(forgeSignedUrl('%2E%2E/%2E%2E/secret.txt', '../../secret.txt'));
    expect([400, 404]).toContain(dotted.status);
    expect(await dotted.text()).not.toContain('TOP SECRET');
  });

  it('answers CORS preflights for configured origins with the methods and headers players need', async () => {
    const restricted = localStorageApp(storage, ['https://app.example', 'https://other.example']);
    const url = await storage.presignGet('v/a.ts', { expiresInSeconds: 60 });
    const preflight = await restricted.request(url, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'range',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-methods')?.split(',')).toEqual(['GET', 'HEAD', 'PUT']);
    expect(preflight.headers.get('access-control-allow-headers')?.split(',')).toEqual([
      'Range',
      'Authorization',
      'Content-Type',
      'If-None-Match',
    ]);

    const stranger = await restricted.request(url, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();

    await storage.putObject('v/a.ts', 'segment');
    const get = await app.request(url, { headers: { Origin: 'https://anywhere.example' } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
    expect(get.headers.get('access-control-expose-headers')?.split(',')).toEqual([
      'Content-Length',
      'Content-Range',
      'Accept-Ranges',
      'ETag',
    ]);
  });

  it('serves suffix ranges, open ranges, single bytes and refuses unsatisfiable ones with 416', async () => {
    const data = randomBytes(1000);
    await storage.putObject('v/r.mp4', data, { contentType: 'video/mp4' });
    const url = await storage.presignGet('v/r.mp4', { expiresInSeconds: 60 });
    const get = (range: string) => app.request(url, { headers: { Range: range } });

    const suffix = await get('bytes=-10');
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe('bytes 990-999/1000');
    expect(Buffer.from(await suffix.arrayBuffer())).toEqual(data.subarray(990));

    const bigSuffix = await get('bytes=-5000');
    expect(bigSuffix.headers.get('content-range')).toBe('bytes 0-999/1000');
    expect(Buffer.from(await bigSuffix.arrayBuffer())).toEqual(data);

    const one = await get('bytes=0-0');
    expect(one.headers.get('content-length')).toBe('1');
    expect(Buffer.from(await one.arrayBuffer())).toEqual(data.subarray(0, 1));

    const clipped = await get('bytes=900-5000');
    expect(clipped.headers.get('content-range')).toBe('bytes 900-999/1000');

    const beyond = await get('bytes=1000-');
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */1000');
    expect((await errorBody(beyond)).error.code).toBe('range_not_satisfiable');

    const malformed = await get('bytes=abc');
    expect(malformed.status).toBe(200);
    expect(Buffer.from(await malformed.arrayBuffer())).toEqual(data);
  });

  it('answers HEAD with the object headers and no body', async () => {
    await storage.putObject('v/h.m3u8', '#EXTM3U\n', {
      contentType: 'application/vnd.apple.mpegurl',
      cacheControl: 'max-age=60',
    });
    const url = await storage.presignGet('v/h.m3u8', { expiresInSeconds: 60 });
    const head = await app.request(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('8');
    expect(head.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(head.headers.get('accept-ranges')).toBe('bytes');
    expect(head.headers.get('cache-control')).toBe('max-age=60');
    expect(head.headers.get('etag')).toBe((await storage.headObject('v/h.m3u8'))?.etag);
    expect(await head.text()).toBe('');
  });

  it('round-trips keys with spaces, percent signs, plus signs, quotes and non-ASCII through URLs', async () => {
    for (const key of ['v/my video (1).mp4', 'v/100%+done#?.ts', "v/it's/ünïcødé 视频.m3u8"]) {
      await storage.putObject(key, `content of ${key}`);
      const res = await app.request(await storage.presignGet(key, { expiresInSeconds: 60 }));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`content of ${key}`);
      const put = await app.request(await storage.presignPut(key, { expiresInSeconds: 60 }), {
        method: 'PUT',
        body: 'replaced',
      });
      expect(put.status).toBe(200);
      expect(await storage.getObjectText(key)).toBe('replaced');
    }
  });

  it('binds a signature to its method and its key', async () => {
    await storage.putObject('v/m.ts', 'original');
    const getUrl = await storage.presignGet('v/m.ts', { expiresInSeconds: 60 });
    const asPut = await app.request(getUrl, { method: 'PUT', body: 'overwritten' });
    expect(asPut.status).toBe(403);
    expect((await errorBody(asPut)).error.code).toBe('signature_invalid');

    const putUrl = new URL(await storage.presignPut('v/allowed.ts', { expiresInSeconds: 60 }));
    putUrl.pathname = putUrl.pathname.replace('allowed.ts', 'm.ts');
    const elsewhere = await app.request(putUrl.toString(), { method: 'PUT', body: 'overwritten' });
    expect(elsewhere.status).toBe(403);
    expect(await storage.getObjectText('v/m.ts')).toBe('original');

    const unsigned = await app.request(`${BASE}/storage/o/v/m.ts`);
    expect(unsigned.status).toBe(403);
    expect((await errorBody(unsigned)).error.code).toBe('signature_missing');
  });

  it('refuses expired URLs with url_expired', async () => {
    let now = Date.now();
    const clocked = createLocalStorage({ root, secret: SECRET, publicBaseUrl: () => BASE, now: () => now });
    const clockedApp = localStorageApp(clocked);
    await clocked.putObject('v/e.ts', 'x');
    const url = await clocked.presignGet('v/e.ts', { expiresInSeconds: 60 });
    expect((await clockedApp.request(url)).status).toBe(200);
    now += 61_000;
    const res = await clockedApp.request(url);
    expect(res.status).toBe(403);
    expect((await errorBody(res)).error.code).toBe('url_expired');
  });

  it('accepts multipart parts of any size and refuses a completion with a wrong ETag', async () => {
    const { uploadId } = await storage.createMultipartUpload('v/parts.bin', { contentType: 'video/mp4' });
    const etags: string[] = [];
    for (const [n, body] of [
      [1, 'abc'],
      [2, 'de'],
    ] as const) {
      const res = await app.request(
        await storage.presignUploadPart('v/parts.bin', uploadId, n, { expiresInSeconds: 60 }),
        {
          method: 'PUT',
          body,
        },
      );
      expect(res.status).toBe(200);
      etags.push(res.headers.get('etag') ?? '');
    }
    const wrong = await storage
      .completeMultipartUpload('v/parts.bin', uploadId, [
        { partNumber: 1, etag: etags[0] ?? '' },
        { partNumber: 2, etag: '"00000000000000000000000000000000"' },
      ])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(wrong).toBeInstanceOf(StorageError);
    expect((wrong as StorageError).code).toBe('invalid_request');
    expect(await storage.headObject('v/parts.bin')).toBeNull();

    await storage.completeMultipartUpload('v/parts.bin', uploadId, [
      { partNumber: 2, etag: etags[1] ?? '' },
      { partNumber: 1, etag: etags[0] ?? '' },
    ]);
    expect(await storage.getObjectText('v/parts.bin')).toBe('abcde');
    expect((await storage.headObject('v/parts.bin'))?.etag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(await readdir(path.join(root, 'uploads'))).toEqual([]);
  });

  it('keeps the previous object when a write fails midway, leaving no temp files', async () => {
    await storage.putObject('v/atomic.ts', 'previous');
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000, 1));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(storage.putObject('v/atomic.ts', failing, { contentLength: 5000 })).rejects.toThrow();
    expect(await storage.getObjectText('v/atomic.ts')).toBe('previous');
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
  });

  it('stores a finished file as a hard link (one write of the bytes), any other file as a copy', async () => {
    const objectFile = (key: string) => path.join(root, 'objects', ...key.split('/'));
    const segment = path.join(dir, 'segment0.ts');
    await writeFile(segment, randomBytes(50_000));
    await storage.putFile('v/linked/segment0.ts', segment, { contentType: 'video/mp2t', finalFile: true });
    await storage.putFile('v/copied/segment0.ts', segment, { contentType: 'video/mp2t' });
    const source = await stat(segment);
    expect((await stat(objectFile('v/linked/segment0.ts'))).ino).toBe(source.ino);
    expect((await stat(objectFile('v/copied/segment0.ts'))).ino).not.toBe(source.ino);
    // The caller deletes its file; both objects stay whole, with their type.
    const bytes = await readFile(segment);
    await rm(segment);
    for (const key of ['v/linked/segment0.ts', 'v/copied/segment0.ts']) {
      expect(await storage.headObject(key)).toMatchObject({ size: 50_000, contentType: 'video/mp2t' });
      expect(Buffer.from(await readFile(objectFile(key)))).toEqual(bytes);
    }
    expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
  });

  it('copies a finished file that lives on another file system (a link cannot cross one)', async () => {
    // /dev/shm is a tmpfs on Linux, never the file system of the temp folder the storage root is in.
    const elsewhere = await mkdtemp('/dev/shm/local-storage-');
    try {
      const segment = path.join(elsewhere, 'segment0.ts');
      await writeFile(segment, randomBytes(20_000));
      expect((await stat(segment)).dev).not.toBe((await stat(dir)).dev);
      await storage.putFile('v/crossed/segment0.ts', segment, { finalFile: true });
      expect(await storage.headObject('v/crossed/segment0.ts')).toMatchObject({ size: 20_000 });
      expect(await readdir(path.join(root, 'tmp'))).toEqual([]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses a stream body whose length differs from the declared one', async () => {
    const error = await storage
      .putObject('v/short.ts', Readable.from([Buffer.alloc(10)]), { contentLength: 11 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('invalid_request');
    expect(await storage.headObject('v/short.ts')).toBeNull();
  });

  it('serves files placed in the folder by hand, typed by extension', async () => {
    await mkdir(path.join(root, 'objects', 'imported'), { recursive: true });
    await writeFile(path.join(root, 'objects', 'imported', 'talk.mp4'), 'not really a video');
    const info = await storage.headObject('imported/talk.mp4');
    expect(info).toMatchObject({ size: 18, contentType: 'video/mp4' });
    const res = await app.request(await storage.presignGet('imported/talk.mp4', { expiresInSeconds: 60 }));
    expect(res.headers.get('content-type')).toBe('video/mp4');
    expect(res.headers.get('etag')).toBe(info?.etag);
  });

  it('removes emptied folders when deleting', async () => {
    await storage.putObject('videos/u1/v1_hls/segment0.ts', 'a');
    await storage.putObject('videos/u1/v1.mp4', 'b');
    await storage.deletePrefix('videos/u1/v1_hls/');
    expect(await readdir(path.join(root, 'objects', 'videos', 'u1'))).toEqual(['v1.mp4']);
    await storage.deleteObject('videos/u1/v1.mp4');
    expect(await readdir(path.join(root, 'objects'))).toEqual([]);
  });

  it('pings only when the folder exists and is writable', async () => {
    await expect(storage.ping()).rejects.toBeInstanceOf(StorageError);
    await storage.putObject('x.txt', 'x');
    await expect(storage.ping()).resolves.toBeUndefined();
  });

  it('refuses a secret shorter than 16 bytes', () => {
    expect(() => createLocalStorage({ root, secret: 'short', publicBaseUrl: () => BASE })).toThrow(
      RangeError,
    );
  });
});

describe('parseRangeHeader', () => {
  it('reads first-last, open and suffix ranges and ignores multi-range or reversed ones', () => {
    expect(parseRangeHeader('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRangeHeader('bytes=500-', 1000)).toEqual({ start: 500, end: 999 });
    expect(parseRangeHeader('bytes=-1', 1000)).toEqual({ start: 999, end: 999 });
    expect(parseRangeHeader('bytes=-0', 1000)).toBe('unsatisfiable');
    expect(parseRangeHeader('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRangeHeader('bytes=0-1,5-6', 1000)).toBeNull();
    expect(parseRangeHeader('bytes=9-3', 1000)).toBeNull();
    expect(parseRangeHeader(undefined, 1000)).toBeNull();
  });
});

describe('local storage over real HTTP', () => {
  let server: ReturnType<typeof serve> | undefined;
  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  it('lets ffprobe read an MP4 whose index is at the end through a presigned URL', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'local-storage-ffprobe-'));
    try {
      const file = path.join(work, 'moov-end.mp4');
      await run('/usr/bin/ffmpeg', [
        ...[
          '-hide_banner',
          '-loglevel',
          'error',
          '-f',
          'lavfi',
          '-i',
          'testsrc=size=160x120:rate=25:duration=3',
        ],
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file],
      ]);
      let base = '';
      const served = createLocalStorage({
        root: path.join(work, 'root'),
        secret: SECRET,
        publicBaseUrl: () => base,
      });
      const httpApp = localStorageApp(served);
      server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const s = serve({ fetch: httpApp.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await served.putFile('videos/u1/v1.mp4', file, { contentType: 'video/mp4' });
      const url = await served.presignGet('videos/u1/v1.mp4', { expiresInSeconds: 60 });

      const { stdout } = await run('/usr/bin/ffprobe', [
        ...['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=nw=1:nk=1', url],
      ]);
      expect(Number(stdout.trim())).toBeCloseTo(3, 1);
      expect(await readFile(file)).toEqual(
        await readFile(path.join(work, 'root', 'objects', 'videos', 'u1', 'v1.mp4')),
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
