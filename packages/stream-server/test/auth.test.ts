import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mintUserToken } from '../src/auth/user-tokens.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, type TestServer } from './helpers/test-server.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters-long';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('user authentication and ownership', () => {
  let server: TestServer;
  let mediaDir: string;
  let videoId: string;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    server = await startTestServer('embedded', { AUTH_JWT_SECRET: SECRET });
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    videoId = (await server.importVideo(file, { ownerId: 'alice' })).id;
  });

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  const streamWith = (token?: string) => api(server, token)(`/api/videos/${videoId}/stream`);

  const expectJsonError = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toMatchObject({ error: { code, message: expect.any(String) } });
  };

  it('answers 401 without a token', async () => {
    await expectJsonError(await streamWith(), 401, 'unauthorized');
  });

  it('answers 401 to a malformed Authorization header', async () => {
    const response = await fetch(`${server.url}/api/videos/${videoId}/stream`, {
      headers: { authorization: 'Basic abc' },
    });
    await expectJsonError(response, 401, 'unauthorized');
  });

  it('answers 401 to an expired token', async () => {
    const token = await mintUserToken({
      secret: SECRET,
      sub: 'alice',
      ttlSeconds: 60,
      now: new Date(Date.now() - 3600_000),
    });
    const response = await streamWith(token);
    await expectJsonError(response, 401, 'unauthorized');
  });

  it('tolerates bounded clock skew but not more', async () => {
    const skewed = await mintUserToken({
      secret: SECRET,
      sub: 'alice',
      ttlSeconds: 60,
      now: new Date(Date.now() - 75_000),
    });
    expect((await streamWith(skewed)).status).not.toBe(401);
    const tooOld = await mintUserToken({
      secret: SECRET,
      sub: 'alice',
      ttlSeconds: 60,
      now: new Date(Date.now() - 120_000),
    });
    expect((await streamWith(tooOld)).status).toBe(401);
  });

  it('answers 401 to a token signed with another secret', async () => {
    const token = await mintUserToken({
      secret: 'another-secret-that-is-also-32-characters-long!',
      sub: 'alice',
      ttlSeconds: 60,
    });
    await expectJsonError(await streamWith(token), 401, 'unauthorized');
  });

  it('answers 401 to an unsigned alg:none token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: now + 60, iat: now })}.`;
    await expectJsonError(await streamWith(token), 401, 'unauthorized');
  });

  it('answers 401 to a token with another algorithm (HS512) even with the right secret', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('alice')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(SECRET));
    await expectJsonError(await streamWith(token), 401, 'unauthorized');
  });

  it('answers 401 to a token without an expiry', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .sign(new TextEncoder().encode(SECRET));
    await expectJsonError(await streamWith(token), 401, 'unauthorized');
  });

  it("answers 404 for another user's video, exactly as for an unknown one", async () => {
    const mallory = api(server, await server.mintUserToken('mallory'));
    const theirs = await mallory(`/api/videos/${videoId}/stream`);
    const unknown = await mallory(`/api/videos/00000000-0000-4000-8000-000000000000/stream`);
    expect(theirs.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(await theirs.json()).toEqual(await unknown.json());
    expect((await mallory(`/api/videos/${videoId}`)).status).toBe(404);
    expect((await mallory(`/api/videos/${videoId}/stream/retry`, { method: 'POST' })).status).toBe(404);
    const list = (await (await mallory('/api/videos')).json()) as { videos: unknown[] };
    expect(list.videos).toEqual([]);
  });

  it.each([
    ['an encoded traversal', '..%2F..%2Fetc%2Fpasswd'],
    ['encoded dots', '%2e%2e'],
    ['a non-uuid', 'not-a-uuid'],
    ['a 5000-character id', 'a'.repeat(5000)],
    ['an SQL injection', "1'%20or%20'1'='1"],
  ])('answers 404 with a JSON body to a path trick: %s', async (_, trick) => {
    const alice = api(server, await server.mintUserToken('alice'));
    const response = await alice(`/api/videos/${trick}/stream`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('answers 400 with a readable message to a NUL byte in a video id', async () => {
    const alice = api(server, await server.mintUserToken('alice'));
    const response = await alice('/api/videos/00000000-0000-4000-8000-000000000000%00/stream');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 'bad_request', message: expect.stringContaining('control characters') },
    });
  });

  it('keeps the management API closed to user tokens', async () => {
    const alice = api(server, await server.mintUserToken('alice'));
    const response = await alice('/api/manage/videos?owner_id=alice');
    await expectJsonError(response, 401, 'unauthorized');
  });
});

describe('RS256 user tokens verified against a JWKS', () => {
  let server: TestServer;
  let jwks: http.Server;
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = http.createServer((_, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    server = await startTestServer('embedded', { AUTH_JWKS_URL: url, AUTH_ISSUER: 'https://id.example' });
  });

  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const sign = (key: CryptoKey, claims: { iss?: string } = { iss: 'https://id.example' }) => {
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('carol')
      .setExpirationTime('5m');
    if (claims.iss) jwt = jwt.setIssuer(claims.iss);
    return jwt.sign(key);
  };

  it('accepts a token signed by a key in the JWKS', async () => {
    const response = await api(server, await sign(privateKey))('/api/videos');
    expect(response.status).toBe(200);
  });

  it('refuses a token signed by another key, or from another issuer', async () => {
    expect((await api(server, await sign(otherKey))('/api/videos')).status).toBe(401);
    expect(
      (await api(server, await sign(privateKey, { iss: 'https://evil.example' }))('/api/videos')).status,
    ).toBe(401);
  });

  it('refuses an HS256 token (algorithm confusion)', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('carol')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    expect((await api(server, token)('/api/videos')).status).toBe(401);
  });
});
