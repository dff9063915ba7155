import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/load-config.js';
import { createRateLimiter } from '../src/http/rate-limit.js';
import { startServer } from '../src/server/start-server.js';
import { api, createTestDatabase, startTestServer, type TestServer } from './helpers/test-server.js';

const json = async (response: Response) => (await response.json()) as Record<string, any>;

/** Every `Access-Control-*` header of an answer. */
const corsHeaders = (response: Response) =>
  [...response.headers.keys()].filter((name) => name.toLowerCase().startsWith('access-control-'));

/**
 * A raw HTTP request (fetch cannot set `Host`, and sends no chunked body of our choosing). Resolves with the status,
 * headers and body; a server that closes the connection early after answering still resolves.
 */
function rawRequest(
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: AsyncIterable<Buffer> | Buffer },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    request.on('error', reject);
    const body = options.body;
    if (!body) request.end();
    else if (Buffer.isBuffer(body)) request.end(body);
    else
      void (async () => {
        try {
          for await (const chunk of body) {
            if (request.destroyed) return;
            if (!request.write(chunk)) await new Promise((r) => request.once('drain', r));
          }
          request.end();
        } catch {
          // The server answered and closed: the rest of the body is not wanted.
        }
      })();
  });
}

async function* chunks(total: number, size = 64 * 1024): AsyncIterable<Buffer> {
  for (let sent = 0; sent < total; sent += size) yield Buffer.alloc(Math.min(size, total - sent), 0x20);
}

describe('the local sign-in (dev token) on a default server', () => {
  let server: TestServer;
  const devToken = (init: RequestInit = {}) =>
    fetch(`${server.url}/api/dev/token`, { method: 'POST', ...init });

  beforeAll(async () => {
    server = await startTestServer('embedded');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is on by default on loopback and mints a token for a JSON request without Origin (curl, the CLI)', async () => {
    expect(server.config.devLogin).toBe(true);
    const answer = await devToken({
      headers: { 'content-type': 'application/json' },
      body: '{"user":"carol"}',
    });
    expect(answer.status).toBe(200);
    expect(await json(answer)).toMatchObject({ user: 'carol', token: expect.any(String) });
    expect(corsHeaders(answer)).toEqual([]);
  });

  it('never answers CORS, not even a preflight', async () => {
    const preflight = await fetch(`${server.url}/api/dev/token`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(corsHeaders(preflight)).toEqual([]);
    expect(preflight.status).toBe(404);
    // A loopback origin, which the rest of the API answers on a default server, gets nothing here either.
    const local = await fetch(`${server.url}/api/dev/token`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:5173', 'access-control-request-method': 'POST' },
    });
    expect(corsHeaders(local)).toEqual([]);
  });

  it('refuses a body that is not declared JSON with 415, before minting anything', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const answer = await devToken({ headers: { 'content-type': type }, body: '{"user":"bob"}' });
      expect(answer.status, type).toBe(415);
      expect(await json(answer)).toMatchObject({
        error: { code: 'unsupported_media_type', message: expect.stringContaining('application/json') },
      });
      expect(corsHeaders(answer)).toEqual([]);
    }
    const none = await devToken({ body: new Blob(['{"user":"bob"}']) });
    expect(none.status).toBe(415);
  });

  it('refuses a request from another origin with 403, and accepts its own origin', async () => {
    for (const origin of [
      'https://evil.example',
      'http://127.0.0.1:1',
      'null',
      `http://localhost:${new URL(server.url).port}`,
    ]) {
      const answer = await devToken({
        headers: { 'content-type': 'application/json', origin },
        body: '{"user":"bob"}',
      });
      expect(answer.status, origin).toBe(403);
      expect(await json(answer)).toMatchObject({ error: { code: 'forbidden' } });
      expect(corsHeaders(answer)).toEqual([]);
    }
    const own = await devToken({
      headers: { 'content-type': 'application/json', origin: server.url },
      body: '{"user":"bob"}',
    });
    expect(own.status).toBe(200);
  });

  it('does not trust a Host that names another site (DNS rebinding)', async () => {
    const answer = await rawRequest(`${server.url}/api/dev/token`, {
      method: 'POST',
      headers: {
        host: `rebind.example:${new URL(server.url).port}`,
        origin: `http://rebind.example:${new URL(server.url).port}`,
        'content-type': 'application/json',
      },
      body: Buffer.from('{"user":"bob"}'),
    });
    expect(answer.status).toBe(403);
  });

  it('defaults CORS to this machine’s pages only while dev login is on', async () => {
    const from = (origin: string) => fetch(`${server.url}/healthz`, { headers: { origin } });
    expect((await from('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await from('http://localhost:5173')).headers.get('access-control-allow-origin')).toBe(
      'http://localhost:5173',
    );
    expect((await from('http://127.0.0.1:4000')).headers.get('access-control-allow-origin')).toBe(
      'http://127.0.0.1:4000',
    );
    expect(
      (await from('http://localhost.evil.example:5173')).headers.get('access-control-allow-origin'),
    ).toBeNull();
    const preflight = await fetch(`${server.url}/api/videos`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('dev login and CORS settings', () => {
  it('turn dev login on by default only on a loopback HOST', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]']) {
      expect(loadConfig({ HOST: host }).devLogin, host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'stream.example.com', '128.0.0.1']) {
      expect(loadConfig({ HOST: host }).devLogin, host).toBe(false);
      expect(loadConfig({ HOST: host, DEV_LOGIN: 'true' }).devLogin, host).toBe(true);
    }
  });

  it('answer CORS for every origin by default only while dev login is off', () => {
    expect(loadConfig({}).corsOrigins).toEqual([
      'http://localhost:*',
      'http://127.0.0.1:*',
      'http://[::1]:*',
    ]);
    expect(loadConfig({ HOST: '0.0.0.0' }).corsOrigins).toBe('*');
    expect(loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) }).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example' }).corsOrigins).toEqual(['https://app.example']);
  });

  it('has no dev sign-in on HOST=0.0.0.0 unless DEV_LOGIN=true, which is logged as a loud warning', async () => {
    const database = await createTestDatabase();
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-any-host-'));
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const env = {
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '0.0.0.0',
      WORKER: 'false',
      DATABASE_URL: database.url,
    };
    try {
      const off = await startServer({ env, logger });
      try {
        const answer = await fetch(`${off.url}/api/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"user":"mallory"}',
        });
        expect(answer.status).toBe(404);
        expect(lines.join('')).not.toContain('DEV_LOGIN');
      } finally {
        await off.stop();
      }

      const on = await startServer({ env: { ...env, DEV_LOGIN: 'true' }, logger });
      try {
        const answer = await fetch(`${on.url}/api/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"user":"mallory"}',
        });
        expect(answer.status).toBe(200);
        const warning = lines
          .map((line) => JSON.parse(line) as { level: number; msg: string; host?: string })
          .find((line) => line.msg.includes('DEV_LOGIN'));
        expect(warning).toMatchObject({ level: 40, host: '0.0.0.0' });
        expect(warning?.msg).toMatch(/ANYONE WHO CAN REACH THIS PORT CAN SIGN IN AS ANY USER/);
      } finally {
        await on.stop();
      }
    } finally {
      await database.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('JSON bodies, text and ids', () => {
  let server: TestServer;
  let service: ReturnType<typeof api>;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    server = await startTestServer('embedded', { MAX_JSON_BODY_BYTES: '65536' });
    service = api(server, server.serviceApiKey);
    alice = api(server, await server.mintUserToken('alice'));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses a JSON body over MAX_JSON_BODY_BYTES with 413 from its Content-Length, unauthenticated too', async () => {
    const big = JSON.stringify({ user: 'bob', padding: 'x'.repeat(200 * 1024) });
    const started = Date.now();
    const answer = await fetch(`${server.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(answer.status).toBe(413);
    expect(await json(answer)).toMatchObject({
      error: { code: 'payload_too_large', message: expect.stringContaining('64 KiB') },
    });
    expect(Date.now() - started).toBeLessThan(5000);
    const registered = await service('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice', title: 't'.repeat(100 * 1024) }),
    });
    expect(registered.status).toBe(413);
    // Just under the limit is read (and refused for its shape, not its size).
    const under = await service('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice', title: 't'.repeat(60 * 1024) }),
    });
    expect(under.status).toBe(400);
  });

  it('stops reading a chunked body as soon as it passes the limit', async () => {
    // 256 MiB announced by nothing: the answer comes after the first 64 KiB, not after the whole body.
    const started = Date.now();
    const answer = await rawRequest(`${server.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: chunks(256 * 1024 * 1024),
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('leaves caption files to their own, larger limit', async () => {
    const { id } = await server.importVideo(await makeTinyFile(), { ownerId: 'alice' });
    const cue = (i: number) =>
      `${String(i).padStart(2, '0')}:00.000 --> ${String(i).padStart(2, '0')}:01.000\n`;
    let vtt = 'WEBVTT\n\n';
    for (let i = 0; vtt.length < 100 * 1024; i++) vtt += `${cue(i % 60)}${'caption text '.repeat(20)}\n\n`;
    const answer = await alice(`/api/videos/${id}/captions/en`, {
      method: 'PUT',
      body: vtt,
      headers: { 'content-type': 'text/vtt' },
    });
    expect(answer.status).not.toBe(413);
  });

  it('refuses titles with NUL, control characters and bidirectional overrides with a readable 400', async () => {
    for (const title of [
      'a\u0000b',
      'bell\u0007',
      'esc\u001b[31m',
      'line\r\nbreak',
      'tab\there',
      'del\u007f',
      'c1\u0085',
      'evil\u202egpj.exe',
      'iso\u2066x\u2069',
    ]) {
      const registered = await service('/api/manage/videos', {
        method: 'POST',
        body: JSON.stringify({ owner_id: 'alice', title }),
      });
      expect(registered.status, JSON.stringify(title)).toBe(400);
      const body = await json(registered);
      expect(body).toMatchObject({
        error: { code: 'bad_request', message: expect.stringContaining('title') },
      });
      expect(body['error']['message']).toMatch(/control characters/);

      const own = await alice('/api/videos', {
        method: 'POST',
        body: JSON.stringify({ title, size_bytes: 1000 }),
      });
      expect(own.status, JSON.stringify(title)).toBe(400);
      expect(await json(own)).toMatchObject({
        error: { message: expect.stringMatching(/title.*control characters/) },
      });
    }
    const fine = await service('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice', title: 'Café — 会议 🎬 (final)' }),
    });
    expect(fine.status).toBe(201);
    expect((await json(fine))['video']).toMatchObject({ title: 'Café — 会议 🎬 (final)' });
  });

  it('refuses NUL and control characters in owner ids, video ids and query parameters with 400', async () => {
    for (const owner of ['al%00ice', '%00', 'a%1Bb', 'a%E2%80%AEb']) {
      const listed = await service(`/api/manage/videos?owner_id=${owner}`);
      expect(listed.status, owner).toBe(400);
      expect(await json(listed)).toMatchObject({
        error: { code: 'bad_request', message: expect.stringMatching(/control characters/) },
      });
    }
    const registered = await service('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'al\u0000ice' }),
    });
    expect(registered.status).toBe(400);
    const minted = await fetch(`${server.url}/api/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'bo\u0000b' }),
    });
    expect(minted.status).toBe(400);
    for (const route of ['/api/videos/%00', '/api/videos/%00/stream', '/api/videos/a%0Ab/captions']) {
      const answer = await alice(route);
      expect(answer.status, route).toBe(400);
      expect(await json(answer)).toMatchObject({ error: { code: 'bad_request' } });
    }
    expect((await service('/api/manage/videos/%00')).status).toBe(400);
    expect((await service('/api/manage/videos?owner_id=alice')).status).toBe(200);
  });

  async function makeTinyFile(): Promise<string> {
    const file = path.join(server.dataDir, 'tiny.mp4');
    await fs.writeFile(file, Buffer.alloc(1024));
    return file;
  }
});

describe('rate limits', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', {
      RATE_LIMIT_AUTH_FAILURES: '5',
      RATE_LIMIT_DEV_TOKENS: '3',
      RATE_LIMIT_UPLOAD_REGISTRATIONS: '2',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const expectLimited = async (answer: Response) => {
    expect(answer.status).toBe(429);
    const seconds = Number(answer.headers.get('retry-after'));
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(await json(answer)).toMatchObject({
      error: { code: 'rate_limited', message: expect.any(String) },
    });
  };

  it('limits dev-token minting per client address', async () => {
    const mint = () =>
      fetch(`${server.url}/api/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"dora"}',
      });
    for (let i = 0; i < 3; i++) expect((await mint()).status).toBe(200);
    await expectLimited(await mint());
  });

  it('limits upload registrations per client address', async () => {
    const eve = api(server, await server.mintUserToken('eve'));
    const register = () => eve('/api/videos', { method: 'POST', body: '{"size_bytes":1000}' });
    for (let i = 0; i < 2; i++) expect((await register()).status).toBe(201);
    await expectLimited(await register());
  });

  it('answers 429 to an address after its failed authentications, even with the right key, and ignores X-Forwarded-For', async () => {
    const wrong = api(server, 'x'.repeat(40));
    for (let i = 0; i < 5; i++) {
      const answer = await wrong('/api/manage/videos?owner_id=alice', {
        headers: { 'x-forwarded-for': `10.0.0.${i}` },
      });
      expect(answer.status).toBe(401);
    }
    await expectLimited(await wrong('/api/manage/videos?owner_id=alice'));
    await expectLimited(await api(server, server.serviceApiKey)('/api/manage/videos?owner_id=alice'));
    await expectLimited(await api(server, 'not-a-jwt')('/api/videos'));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('counts each client behind a trusted proxy by its X-Forwarded-For address, and 0 disables a limit', async () => {
    const proxied = await startTestServer('embedded', {
      TRUST_PROXY: 'true',
      RATE_LIMIT_AUTH_FAILURES: '2',
      RATE_LIMIT_DEV_TOKENS: '0',
    });
    try {
      const wrong = (address: string) =>
        api(proxied, 'not-a-jwt')('/api/videos', {
          headers: { 'x-forwarded-for': `203.0.113.9, ${address}` },
        });
      expect((await wrong('198.51.100.1')).status).toBe(401);
      expect((await wrong('198.51.100.1')).status).toBe(401);
      await expectLimited(await wrong('198.51.100.1'));
      expect((await wrong('198.51.100.2')).status).toBe(401);
      for (let i = 0; i < 40; i++) {
        const answer = await fetch(`${proxied.url}/api/dev/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"user":"dora"}',
        });
        expect(answer.status).toBe(200);
      }
    } finally {
      await proxied.close();
    }
  });

  it('keeps a bounded number of addresses in memory and forgets a window when it ends', () => {
    let now = 0;
    const limiter = createRateLimiter({ limit: 2, windowSeconds: 60, maxKeys: 100, clock: () => now });
    expect(limiter.count('a')).toBe(0);
    expect(limiter.count('a')).toBe(0);
    expect(limiter.count('a')).toBe(60);
    now = 30_000;
    expect(limiter.retryAfter('a')).toBe(30);
    for (let i = 0; i < 10_000; i++) limiter.count(`spray-${i}`);
    // 'a' was among the oldest: pushed out rather than growing without bound.
    expect(limiter.retryAfter('a')).toBe(0);
    now = 200_000;
    expect(limiter.retryAfter('spray-9999')).toBe(0);
    expect(createRateLimiter({ limit: 0 }).count('x')).toBe(0);
  });
});

describe('the OpenAPI document', () => {
  it('lists the new answers on the routes that give them', async () => {
    const server = await startTestServer('embedded');
    try {
      const doc = await json(await fetch(`${server.url}/openapi.json`));
      const devToken = doc['paths']['/api/dev/token']['post']['responses'];
      expect(Object.keys(devToken)).toEqual(expect.arrayContaining(['403', '413', '415', '429']));
      const register = doc['paths']['/api/manage/videos']['post']['responses'];
      expect(Object.keys(register)).toEqual(expect.arrayContaining(['413', '429']));
    } finally {
      await server.close();
    }
  });
});
