// Debian's nginx with `proxy_cache` as a stand-in CDN in front of a video's storage (a bucket, or the service's local
// storage routes), with a counting pass-through between nginx and the origin, so a test or the bench counts what the
// origin really served rather than what nginx says about itself. See docs/scale-out.md (a CDN in front) and
// docs/decisions/0016-cache-shareable-segment-urls.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Debian's nginx, or `NGINX_PATH` (scripts/ensure-system-deps.sh installs it). */
export const NGINX_PATH = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

/** A TCP port free at this moment on 127.0.0.1. */
export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A pass-through to `origin` that counts every request it forwards, by path and by full URL. */
async function startCountingProxy(origin) {
  const byPath = new Map();
  const byUrl = new Map();
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', origin).pathname;
    byPath.set(pathname, (byPath.get(pathname) ?? 0) + 1);
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
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    byPath,
    byUrl,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * nginx with `proxy_cache` in front of `origin`, standing in for a CDN: the cache key is the full URL (path and
 * query), what the origin's `Cache-Control`/`Expires` allow is cached, and concurrent misses for one URL wait for the
 * first (`proxy_cache_lock`), as CDNs coalesce them. Requests reach the origin with the origin's own `Host`, as the
 * URLs were signed for; every answer says `X-Cache-Status` (HIT, MISS…).
 */
export async function startNginxCache(origin, options = {}) {
  const originUrl = new URL(origin);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-nginx-'));
  const counter = await startCountingProxy(originUrl);
  const port = options.port ?? (await freePort());
  const conf = path.join(dir, 'nginx.conf');
  await fs.writeFile(
    conf,
    `daemon off;
master_process off;
${os.userInfo().uid === 0 ? 'user root;' : ''}
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
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=media:10m max_size=${options.maxSize ?? '1g'} inactive=1d use_temp_path=off;
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
  const child = spawn(NGINX_PATH, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await counter.stop();
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; !(await listening(port)); i += 1) {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
      if (i > 100) throw new Error(`nginx did not listen on ${port}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    originFetches: () => new Map(counter.byPath),
    originFetchesByUrl: () => new Map(counter.byUrl),
    stop,
  };
}

/** Runs `task` for every item, at most `limit` at a time (viewer sessions in parallel, as a crowd would come). */
export async function eachLimited(items, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[(next += 1) - 1]);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}
