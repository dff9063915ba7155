import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Debian's nginx; `NGINX_PATH` points elsewhere (scripts/ensure-system-deps.sh installs it). */
export const NGINX_PATH = process.env['NGINX_PATH'] ?? '/usr/sbin/nginx';

export interface NginxCache {
  /** The cache's origin, e.g. `http://127.0.0.1:41234` (what `SEGMENT_CDN_URL` points at). */
  url: string;
  /** How many times the origin answered each path (query left out), counted between the cache and the origin. */
  originFetches(): Map<string, number>;
  /** How many times the origin answered each full URL (path and signed query). */
  originFetchesByUrl(): Map<string, number>;
  stop(): Promise<void>;
}

/** A TCP port free at this moment on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A counting pass-through in front of `origin`: every request the cache sends to the origin is counted here, so the
 * test counts what the origin really served rather than what nginx says about itself.
 */
async function startCountingProxy(origin: URL) {
  const byPath = new Map<string, number>();
  const byUrl = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    byPath.set(url.pathname, (byPath.get(url.pathname) ?? 0) + 1);
    byUrl.set(req.url ?? '/', (byUrl.get(req.url ?? '/') ?? 0) + 1);
    const upstream = http.request(
      { host: origin.hostname, port: origin.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    byPath,
    byUrl,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * nginx with `proxy_cache` in front of `origin` (a bucket or the service's local storage), standing in for a CDN:
 * the cache key is the full URL (path and query), what the origin's `Cache-Control`/`Expires` allow is cached, and
 * concurrent misses for one URL wait for the first (`proxy_cache_lock`), as CDNs coalesce them. Requests reach the
 * origin with the origin's own `Host`, as the URLs were signed for.
 */
export async function startNginxCache(origin: string, options: { port?: number } = {}): Promise<NginxCache> {
  const originUrl = new URL(origin);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-nginx-'));
  const counter = await startCountingProxy(originUrl);
  const port = options.port ?? (await freePort());
  const conf = path.join(dir, 'nginx.conf');
  const user = os.userInfo();
  await fs.writeFile(
    conf,
    `daemon off;
master_process off;
${user.uid === 0 ? 'user root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=media:10m max_size=1g inactive=1d use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${counter.port};
      proxy_set_header Host ${originUrl.host};
      proxy_http_version 1.1;
      proxy_cache media;
      proxy_cache_key $scheme$host$request_uri;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 60s;
      proxy_cache_lock_age 60s;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(NGINX_PATH, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i += 1) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (i > 100) throw new Error(`nginx did not listen on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    originFetches: () => new Map(counter.byPath),
    originFetchesByUrl: () => new Map(counter.byUrl),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await counter.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
