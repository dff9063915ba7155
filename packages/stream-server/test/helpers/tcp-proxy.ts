import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP proxy a test can cut (every connection dropped, new ones refused) and restore on the same port. */
export interface CuttableProxy {
  readonly port: number;
  /** Drops every open connection and stops listening: clients see resets, then refused connections. */
  cut(): Promise<void>;
  /** Listens again on the same port and forwards new connections. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Where a proxy forwards to: fixed, or looked up at each new connection (a server started after the proxy). */
export type ProxyTarget = { host: string; port: number } | (() => { host: string; port: number });

/**
 * Starts a proxy on 127.0.0.1 in front of `target`, e.g. between the service and PostgreSQL, so a test can take the
 * database away in the middle of a request or a generation the way a network failure or a restart would, or between
 * an uploader and the server or storage, to drop its connections midway.
 *
 * @example
 * const proxy = await startCuttableProxy({ host: '127.0.0.1', port: 5432 });
 * await proxy.cut(); … await proxy.restore();
 */
export async function startCuttableProxy(target: ProxyTarget): Promise<CuttableProxy> {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    const { host, port } = typeof target === 'function' ? target() : target;
    const upstream = net.connect(port, host);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    port,
    async cut() {
      const closed = stopListening();
      dropAll();
      await closed;
    },
    async restore() {
      if (!server.listening) await listen(port);
    },
    async close() {
      const closed = stopListening();
      dropAll();
      await closed;
    },
  };
}
