import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type RunningServer } from '../src/server/start-server.js';
import { seedEmbeddedDatabase } from './helpers/test-server.js';

describe('X-Request-Id', () => {
  let server: RunningServer;
  let dataDir: string;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-request-id-'));
    await seedEmbeddedDatabase(dataDir);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    server = await startServer({
      env: { DATA_DIR: dataDir, PORT: '0', WORKER: 'false' },
      logger: pino({ level: 'info' }, sink),
    });
  });

  afterAll(async () => {
    await server?.stop();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('echoes a usable id the caller sends, on success and on errors, and logs it with the request', async () => {
    const ok = await fetch(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'host-app.req-42' } });
    expect(ok.headers.get('x-request-id')).toBe('host-app.req-42');
    const refused = await fetch(`${server.url}/api/videos`, { headers: { 'X-Request-Id': 'req-401' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toBe('req-401');
    await expect
      .poll(() => lines.find((line) => line['msg'] === 'request' && line['requestId'] === 'req-401'))
      .toMatchObject({ path: '/api/videos', status: 401 });
  });

  it('makes a fresh id when the caller sends none or an unusable one, also for storage objects', async () => {
    const none = await fetch(`${server.url}/healthz`);
    const id = none.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const again = await fetch(`${server.url}/healthz`);
    expect(again.headers.get('x-request-id')).not.toBe(id);
    const unusable = await fetch(`${server.url}/healthz`, {
      headers: { 'X-Request-Id': 'bad id\twith spaces' },
    });
    expect(unusable.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await server.storage.putObject('videos/u/x.txt', 'hello');
    const url = await server.storage.presignGet('videos/u/x.txt', { expiresInSeconds: 60 });
    const object = await fetch(url, { headers: { 'X-Request-Id': 'object-1' } });
    expect(await object.text()).toBe('hello');
    expect(object.headers.get('x-request-id')).toBe('object-1');
  });
});
