import net from 'node:net';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isDatabaseUnavailable } from '../src/db/database-errors.js';
import { api, createTestDatabase, startTestServer, type TestServer } from './helpers/test-server.js';

/**
 * A TCP proxy in front of the test PostgreSQL server that can be frozen like a network partition: connections stay
 * open (and new ones are accepted), but nothing is forwarded either way until it is thawed.
 */
async function startFreezableProxy(target: { host: string; port: number }) {
  let frozen = false;
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (frozen) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
    from.on('error', () => to.destroy());
    from.on('close', () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const write of held.splice(0)) write();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('a database network partition', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: Awaited<ReturnType<typeof startFreezableProxy>>;
  let server: TestServer;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await startFreezableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    // The default DATABASE_TIMEOUT_SECONDS: what an operator gets without configuring anything.
    server = await startTestServer('embedded', { DATABASE_URL: url.toString() });
    alice = api(server, await server.mintUserToken('alice'));
  });

  afterAll(async () => {
    proxy?.thaw();
    await server?.close();
    await proxy?.close();
    await database?.drop();
  });

  it('answers 503 with Retry-After within seconds, and works again once the network is back', async () => {
    expect((await alice('/api/videos')).status).toBe(200);

    proxy.freeze();
    const started = Date.now();
    const response = await alice('/api/videos', { signal: AbortSignal.timeout(20_000) });
    const elapsed = Date.now() - started;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await response.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
    expect(elapsed).toBeLessThan(8000);

    // A second request while frozen (a new connection this time, or a queued one) also ends quickly.
    const again = Date.now();
    expect((await alice('/api/videos', { signal: AbortSignal.timeout(20_000) })).status).toBe(503);
    expect(Date.now() - again).toBeLessThan(8000);

    proxy.thaw();
    // Connections that timed out are not reused: the very next request works.
    const healed = await alice('/api/videos', { signal: AbortSignal.timeout(20_000) });
    expect(healed.status).toBe(200);
    expect(await healed.json()).toMatchObject({ videos: expect.any(Array) });
  }, 60_000);
});

describe('isDatabaseUnavailable', () => {
  it('tells an unreachable database from other errors', () => {
    expect(isDatabaseUnavailable(new Error('Query read timeout'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      ),
    ).toBe(true);
    expect(
      isDatabaseUnavailable(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })])),
    ).toBe(true);
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }),
      ),
    ).toBe(true);
    expect(
      isDatabaseUnavailable(
        new Error('wrapped', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }),
      ),
    ).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDatabaseUnavailable('Query read timeout')).toBe(false);
  });
});
