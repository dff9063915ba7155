// The `cdn_origin_fetches_per_object` row: Debian's nginx with proxy_cache stands in for a CDN in front of the
// storage (the bucket, or the service's local storage routes); 50 viewer sessions of one video — the owner's and
// teammates' with a `watch` grant — each fetch the first 20 segments of their playlist through it. The origin's
// answers are counted by a pass-through between nginx and the origin. Target 1.0: each object fetched once per
// signing window however many people watch (docs/decisions/0016-cache-shareable-segment-urls.md).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

/** A pass-through to `origin` that counts what it answers, by path. */
async function startCounter(origin) {
  const fetches = new Map();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    fetches.set(path, (fetches.get(path) ?? 0) + 1);
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
  return { port: server.address().port, fetches, stop: () => new Promise((r) => server.close(r)) };
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** nginx caching on the full URL in front of `originUrl`, with the origin's Host, as docs/scale-out.md configures it. */
async function startNginx(originUrl, counterPort) {
  const dir = await mkdtemp(join(os.tmpdir(), 'notetaker-bench-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await writeFile(
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
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=media:10m max_size=4g inactive=1d use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${counterPort};
      proxy_set_header Host ${originUrl.host};
      proxy_http_version 1.1;
      proxy_cache media;
      proxy_cache_key $scheme$host$request_uri;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 60s;
    }
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', conf], { stdio: 'ignore' });
  for (let i = 0; ; i += 1) {
    if (child.exitCode !== null)
      throw new Error(`nginx exited with ${child.exitCode} (see ${dir}/error.log)`);
    const up = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket.end() && true));
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (i > 100) throw new Error(`nginx did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `task` over `items`, at most `limit` at a time. */
async function eachLimited(items, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[(next += 1) - 1]);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/**
 * Origin fetches ÷ distinct objects for `sessions` viewers of a ready video, each fetching its first `segments`
 * segments through nginx. Each session is one `/stream` and one playlist request with its own token (a fifth of
 * them the owner's, the rest teammates' with a `watch` grant minted by `POST /api/manage/tokens`).
 *
 * @param {{ apiUrl: string, origin: string, videoId: string, ownerToken: () => Promise<string>, serviceKey: string,
 *   sessions?: number, segments?: number }} options
 */
export async function cdnOriginFetchesPerObject({
  apiUrl,
  origin,
  videoId,
  ownerToken,
  serviceKey,
  sessions = 50,
  segments = 20,
}) {
  const originUrl = new URL(origin);
  const counter = await startCounter(originUrl);
  const nginx = await startNginx(originUrl, counter.port);
  try {
    const tokens = [];
    for (let i = 0; i < sessions; i += 1) {
      if (i % 5 === 0) {
        tokens.push(await ownerToken());
        continue;
      }
      const response = await fetch(`${apiUrl}/api/manage/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sub: `teammate-${i}`, watch: [videoId] }),
      });
      if (response.status !== 201) throw new Error(`POST /api/manage/tokens answered ${response.status}`);
      tokens.push((await response.json()).token);
    }
    const objects = new Set();
    await eachLimited(tokens, 10, async (token) => {
      const answer = await fetch(`${apiUrl}/api/videos/${videoId}/stream`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = await answer.json();
      if (answer.status !== 200 || body.status !== 'ready')
        throw new Error(`/stream answered ${answer.status}`);
      const playlist = await (await fetch(body.hls_url)).text();
      const uris = playlist
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('#'))
        .slice(0, segments);
      for (const uri of uris) {
        const url = new URL(uri, body.hls_url);
        objects.add(url.pathname);
        // Onto the cache: its origin, the same path and signed query (what SEGMENT_CDN_URL does).
        const response = await fetch(`${nginx.url}${url.pathname}${url.search}`);
        if (response.status !== 200) throw new Error(`segment through the cache answered ${response.status}`);
        await response.arrayBuffer();
      }
    });
    let fetched = 0;
    for (const path of objects) fetched += counter.fetches.get(path) ?? 0;
    return { perObject: fetched / objects.size, objects: objects.size, originFetches: fetched, sessions };
  } finally {
    await nginx.stop();
    await counter.stop();
  }
}
