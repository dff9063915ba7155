// Smoke run of a built image's filesystem, the way a container runtime would start it, without one (no `podman
// run` on these machines): every "container" is a new PID and mount namespace whose PID 1 is the image's
// ENTRYPOINT + CMD, chrooted into the exported filesystem as the image's USER, with exactly the image's ENV (plus
// what `-e` would add), its WORKDIR, `proc`, `/dev` and a fresh volume at each VOLUME path. Commands inside a
// running one (`docker exec`, the HEALTHCHECK) enter its namespaces. The network is the host's: PORT is moved to
// a free port, which is what publishing a port does.
//
// 1. embedded defaults (`serve`, PGlite + local storage in /data): /healthz, /readyz, the HEALTHCHECK, an import
//    with the in-image CLI, a token from the in-image CLI, /stream until ready, the playlist and every segment,
//    the web page and its assets;
// 2. docker-compose.yml's `api` (`serve --no-worker`) and `worker` (`worker`) services with their environment from
//    the compose file, against a fresh PostgreSQL database and the S3 test server (signature-verifying): the
//    worker generates, the API does not.
//
// Usage (as root): node scripts/image-test/smoke.mjs <exported-root> <image-inspect.json>
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { waitForStreamReady } from '@notetaker/test-support/server-waits';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_PACKAGE = path.join(REPO, 'packages/stream-server/package.json');
const requireFromServer = createRequire(SERVER_PACKAGE);
const pg = requireFromServer('pg');
const { parse: parseYaml } = requireFromServer('yaml');
const run = promisify(execFile);

const [ROOT, INSPECT] = process.argv.slice(2);
if (!ROOT || !INSPECT) {
  console.error('usage: smoke.mjs <exported-root> <image-inspect.json>');
  process.exit(2);
}
const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const started = Date.now();
const cleanups = [];

function log(message) {
  console.log(`[image smoke ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

function equal(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`check failed: ${message}: expected ${e}, got ${a}`);
}

// ---- the image's configuration, as the runtime reads it -------------------------------------------------------

const inspected = JSON.parse(readFileSync(INSPECT, 'utf8'))[0];
const config = inspected.Config;
const imageEnv = Object.fromEntries(
  (config.Env ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const healthcheck = inspected.Healthcheck ?? config.Healthcheck;

function resolveUser(user) {
  const [name, group] = String(user || 'root').split(':');
  const passwd = readFileSync(path.join(ROOT, 'etc/passwd'), 'utf8')
    .split('\n')
    .map((line) => line.split(':'));
  const entry = passwd.find((fields) => fields[0] === name || fields[2] === name);
  check(entry, `USER ${user} exists in the image's /etc/passwd`);
  let gid = Number(entry[3]);
  if (group !== undefined) {
    const groups = readFileSync(path.join(ROOT, 'etc/group'), 'utf8')
      .split('\n')
      .map((line) => line.split(':'));
    const g = groups.find((fields) => fields[0] === group || fields[2] === group);
    check(g, `group ${group} exists in the image`);
    gid = Number(g[2]);
  }
  return { uid: Number(entry[2]), gid, home: entry[5] };
}
const user = resolveUser(config.User);

function checkImageConfig() {
  const serverPackage = JSON.parse(readFileSync(SERVER_PACKAGE, 'utf8'));
  equal(config.User, 'node', 'USER');
  equal(user.uid, 1000, 'uid of USER node');
  equal(config.Entrypoint, ['tini', '--', 'notetaker-stream'], 'ENTRYPOINT');
  equal(config.Cmd, ['serve'], 'CMD');
  equal(Object.keys(config.Volumes ?? {}), ['/data'], 'VOLUME');
  equal(Object.keys(config.ExposedPorts ?? {}), ['8787/tcp'], 'EXPOSE');
  equal(config.StopSignal, 'SIGTERM', 'STOPSIGNAL');
  for (const [name, value] of Object.entries({
    HOST: '0.0.0.0',
    PORT: '8787',
    DATA_DIR: '/data',
    NODE_ENV: 'production',
  })) {
    equal(imageEnv[name], value, `ENV ${name}`);
  }
  // The image runs the server with the Node options `npm start` gives it (decision 0026).
  const rootPackage = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const startOptions = rootPackage.scripts.start.match(/\bnode ((?:--[\w-]+=\S+ )+)/)?.[1].trim();
  check(startOptions, `the root package's start script passes Node options: ${rootPackage.scripts.start}`);
  equal(imageEnv.NODE_OPTIONS, startOptions, 'ENV NODE_OPTIONS (the options of `npm start`)');
  check(
    healthcheck?.Test?.length,
    'the image has a HEALTHCHECK (build with --format docker: OCI images drop it)',
  );
  const labels = config.Labels ?? {};
  equal(
    labels['org.opencontainers.image.version'],
    serverPackage.version,
    'label version = the server package version',
  );
  equal(
    labels['org.opencontainers.image.licenses'],
    serverPackage.license,
    'label licenses = the server package licence',
  );
  check(labels['org.opencontainers.image.title'], 'label title');
  check(labels['org.opencontainers.image.description'], 'label description');
  check('org.opencontainers.image.source' in labels, 'label source');
}

/** What must and must not be in the image's files. */
function checkImageFiles() {
  const app = path.join(ROOT, 'app');
  // Paths inside the image, symbolic links followed inside it (not on this machine).
  const exists = (relative) => {
    let target = path.join(ROOT, relative);
    for (let hops = 0; hops < 10; hops++) {
      let stat;
      try {
        stat = lstatSync(target);
      } catch {
        return false;
      }
      if (!stat.isSymbolicLink()) return true;
      const link = readlinkSync(target);
      target = link.startsWith('/') ? path.join(ROOT, link) : path.resolve(path.dirname(target), link);
    }
    return false;
  };
  for (const needed of [
    'usr/bin/ffmpeg',
    'usr/bin/ffprobe',
    'usr/bin/tini',
    'usr/local/bin/notetaker-stream',
    'app/packages/stream-server/dist/web/index.html',
  ]) {
    check(exists(needed), `${needed} is in the image`);
  }
  // Every production dependency resolves from the server's folder, nested ones included (issue: a nested
  // @aws-sdk/client-s3 was left behind).
  const serverPackage = JSON.parse(readFileSync(SERVER_PACKAGE, 'utf8'));
  for (const name of Object.keys(serverPackage.dependencies)) {
    const found = ['packages/stream-server/node_modules', 'node_modules'].some((folder) =>
      existsSync(path.join(app, folder, name, 'package.json')),
    );
    check(found, `production dependency ${name} is installed in the image`);
  }
  // Only production dependencies: no compiler, bundler, test runner or build tool.
  for (const dev of [
    'typescript',
    'esbuild',
    'turbo',
    'vitest',
    'vite',
    'tsx',
    's3rver',
    'playwright-core',
    'prettier',
    '@notetaker/player-element',
  ]) {
    check(
      !exists(`app/node_modules/${dev}`) && !exists(`app/packages/stream-server/node_modules/${dev}`),
      `${dev} is not in the image`,
    );
  }
  for (const tool of ['usr/bin/gcc', 'usr/bin/make', 'usr/bin/g++'])
    check(!exists(tool), `${tool} is not in the image`);
  // No source maps or type declarations in the server's own code.
  const stack = [path.join(app, 'packages/stream-server/dist')];
  while (stack.length) {
    const dir = stack.pop();
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else check(!/\.(map|d\.ts)$/.test(entry.name), `no ${path.relative(ROOT, full)} in the image`);
    }
  }
  const data = statSync(path.join(ROOT, 'data'));
  equal([data.uid, data.gid], [user.uid, user.gid], '/data belongs to the image user');
}

// ---- "containers" ---------------------------------------------------------------------------------------------

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A named volume: an empty folder owned like the image's folder at that path (what Docker copies into it). */
function makeVolume(name) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `notetaker-image-${name}-`));
  const target = statSync(path.join(ROOT, 'data'));
  chownSync(dir, target.uid, target.gid);
  chmodSync(dir, target.mode & 0o7777);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The /etc/hosts a runtime writes into a container (the host's network here, so loopback only). */
let hosts;
function hostsFile() {
  if (!hosts) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'notetaker-image-etc-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    hosts = path.join(dir, 'hosts');
    writeFileSync(hosts, '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n');
    chmodSync(hosts, 0o644);
  }
  return hosts;
}

function containerEnv(extra) {
  const env = { ...imageEnv, ...extra };
  if (!env.PATH) env.PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  if (!env.HOME) env.HOME = user.home;
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/** `chroot … env -i …` into the image as its USER, in its WORKDIR, with exactly `env`. */
function chrootCommand(env, command) {
  return [
    'chroot',
    `--userspec=${user.uid}:${user.gid}`,
    '--groups=',
    ROOT,
    'env',
    '-i',
    '-C',
    config.WorkingDir || '/',
    ...env,
    ...command,
  ];
}

/**
 * Starts a container: `args` replace CMD (as `docker run IMAGE args…` does), `env` adds to ENV (`-e`), `volume` is
 * mounted at /data. Resolves once it is running; `stop()` sends STOPSIGNAL to its PID 1, as `docker stop` does.
 */
function startContainer(name, { args, env = {}, volume }) {
  const fullEnv = containerEnv(env);
  const command = [...(config.Entrypoint ?? []), ...(args ?? config.Cmd ?? [])];
  // Inside the new mount namespace (private: nothing leaks to the host, and everything goes with it).
  const setup = [
    'set -e',
    'mount --rbind /dev "$ROOT/dev"',
    // The files a runtime provides in every container.
    'mount --bind "$HOSTS" "$ROOT/etc/hosts"',
    'mount --bind /etc/resolv.conf "$ROOT/etc/resolv.conf"',
    `mount --bind "$VOLUME" "$ROOT/data"`,
    'exec "$@"',
  ].join('\n');
  const child = spawn(
    'unshare',
    [
      '--pid',
      '--fork',
      '--mount',
      '--propagation',
      'private',
      `--mount-proc=${path.join(ROOT, 'proc')}`,
      '--kill-child=SIGKILL',
      'bash',
      '-c',
      setup,
      'container',
      ...chrootCommand(fullEnv, command),
    ],
    {
      env: { ROOT, VOLUME: volume, HOSTS: hostsFile(), PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk) => {
    output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exit;
  exited.then((result) => (exit = result));

  /** The host's PID of the container's PID 1 (unshare's only child). */
  function pid1() {
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/);
    check(children.length === 1 && children[0], `${name}: one PID 1`);
    return Number(children[0]);
  }

  const container = {
    name,
    output: () => output,
    get exit() {
      return exit;
    },
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (exit)
          throw new Error(`${name} exited (${JSON.stringify(exit)}) before printing ${pattern}:\n${output}`);
        if (Date.now() > deadline)
          throw new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    /** `docker exec`: a command in the running container, as its USER, with its ENV. */
    async exec(commandLine, { input, env: extraEnv } = {}) {
      const execEnv = extraEnv ? containerEnv({ ...env, ...extraEnv }) : fullEnv;
      const nsenter = spawn(
        'nsenter',
        ['--target', String(pid1()), '--pid', '--mount', '--', ...chrootCommand(execEnv, commandLine)],
        {
          env: { PATH: process.env.PATH },
          stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      nsenter.stdout.on('data', (chunk) => (stdout += chunk.toString()));
      nsenter.stderr.on('data', (chunk) => (stderr += chunk.toString()));
      if (input !== undefined) nsenter.stdin.end(input);
      const code = await new Promise((resolve) => nsenter.once('close', (c) => resolve(c)));
      return { code, stdout, stderr };
    },
    /** Runs the image's HEALTHCHECK inside the container; resolves with its exit code. */
    async health(extraEnv) {
      const [kind, ...rest] = healthcheck.Test;
      const commandLine = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : rest;
      check(kind === 'CMD' || kind === 'CMD-SHELL', `HEALTHCHECK form ${kind}`);
      return (await container.exec(commandLine, { env: extraEnv })).code;
    },
    async stop(timeoutMs = 30_000) {
      if (exit) return exit;
      try {
        process.kill(pid1(), config.StopSignal || 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  cleanups.push(() => container.stop(10_000));
  return container;
}

// ---- HTTP checks ------------------------------------------------------------------------------------------------

async function getJson(url, headers = {}) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body, headers: response.headers };
}

/** Fetches a playlist, every playlist it names and every segment (and init segment); returns the media seconds. */
async function fetchPlaylist(url, seen = { segments: 0, seconds: 0, bytes: 0 }) {
  const response = await fetch(url);
  check(response.status === 200, `playlist ${url} answers 200 (got ${response.status})`);
  const text = await response.text();
  check(text.startsWith('#EXTM3U'), `${url} is an HLS playlist`);
  const lines = text.split('\n').map((line) => line.trim());
  const uris = [];
  for (const line of lines) {
    const map = /^#EXT-X-(?:MAP|MEDIA):.*URI="([^"]+)"/.exec(line);
    if (map) uris.push({ uri: map[1], playlist: line.startsWith('#EXT-X-MEDIA') });
    if (line && !line.startsWith('#'))
      uris.push({ uri: line, playlist: /\.m3u8(\?|$)/.test(line) || text.includes('#EXT-X-STREAM-INF') });
  }
  const isMedia = text.includes('#EXTINF');
  if (isMedia) {
    check(text.includes('#EXT-X-ENDLIST'), `${url} is complete (ENDLIST)`);
    for (const match of text.matchAll(/#EXTINF:([\d.]+)/g)) seen.seconds += Number(match[1]);
  }
  for (const { uri, playlist } of uris) {
    const target = new URL(uri, url).toString();
    if (playlist) {
      await fetchPlaylist(target, seen);
      continue;
    }
    const segment = await fetch(target);
    check(segment.status === 200, `segment ${target} answers 200 (got ${segment.status})`);
    const body = Buffer.from(await segment.arrayBuffer());
    check(body.length > 0, `segment ${target} has bytes`);
    seen.segments += 1;
    seen.bytes += body.length;
  }
  return seen;
}

async function checkWebPage(base) {
  const page = await fetch(`${base}/`);
  check(page.status === 200, `/ answers 200 (got ${page.status})`);
  check((page.headers.get('content-type') ?? '').startsWith('text/html'), '/ is HTML');
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  check(
    assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')),
    'the page names its script and stylesheet',
  );
  for (const asset of assets) {
    const answer = await fetch(`${base}${asset}`);
    check(
      answer.status === 200 && (await answer.arrayBuffer()).byteLength > 0,
      `${asset} answers 200 with bytes`,
    );
  }
  return assets.length;
}

/** docker cp: puts a file into the image's filesystem, readable by its user. */
function copyIntoImage(file, target) {
  copyFileSync(file, path.join(ROOT, target));
  chmodSync(path.join(ROOT, target), 0o644);
  cleanups.push(() => rmSync(path.join(ROOT, target), { force: true }));
}

async function importAndPlay(container, base, { owner }) {
  const imported = await container.exec(['notetaker-stream', 'import', '/tmp/smoke.mp4', '--owner', owner]);
  check(imported.code === 0, `notetaker-stream import exits 0 (got ${imported.code}): ${imported.stderr}`);
  const video = JSON.parse(imported.stdout);
  equal(video.upload_status, 'complete', 'imported video upload_status');
  const minted = await container.exec(['notetaker-stream', 'token', '--sub', owner]);
  check(
    minted.code === 0 && minted.stdout.trim(),
    `notetaker-stream token exits 0 with a token: ${minted.stderr}`,
  );
  const token = minted.stdout.trim();
  const t0 = Date.now();
  const { first, body } = await waitForStreamReady({
    baseUrl: base,
    token,
    videoId: video.id,
    timeoutMs: 90_000,
  });
  const readyMs = Date.now() - t0;
  const seen = await fetchPlaylist(body.hls_url);
  check(seen.segments >= 2, 'the playlist names several segments');
  check(
    Math.abs(seen.seconds - SOURCE_SECONDS) < 0.6,
    `the playlist covers the video (${seen.seconds} s of ${SOURCE_SECONDS} s)`,
  );
  log(
    `${container.name}: imported ${video.id}, /stream ${first} → 200 ready in ${readyMs} ms, ${seen.segments} segments (${seen.seconds.toFixed(1)} s, ${seen.bytes} bytes) served`,
  );
  return { video, body };
}

// ---- the compose file, as Compose reads it ----------------------------------------------------------------------

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `$$`. */
function interpolate(text, vars) {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, braced, op, arg, bare) => {
      if (match === '$$') return '$';
      const name = braced ?? bare;
      const value = vars[name];
      const missing = op?.startsWith(':') ? value === undefined || value === '' : value === undefined;
      if (op?.endsWith('-')) return missing ? (arg ?? '') : value;
      if (op?.endsWith('?')) {
        if (missing) throw new Error(`required variable ${name} is missing: ${arg}`);
        return value;
      }
      return value ?? '';
    },
  );
}

function composeService(compose, name, vars) {
  const service = compose.services[name];
  const environment = Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([key, value]) => [key, interpolate(String(value), vars)]),
  );
  return { ...service, environment };
}

// ---- the run ----------------------------------------------------------------------------------------------------

// Long enough for several segments.
const SOURCE_SECONDS = 14;

async function makeVideo() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'notetaker-image-media-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'smoke.mp4');
  await run('ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=320x240:rate=25:duration=${SOURCE_SECONDS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${SOURCE_SECONDS}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '50',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-movflags',
    '+faststart',
    '-shortest',
    file,
  ]);
  return file;
}

async function embedded() {
  const port = await freePort();
  const serve = startContainer('serve (embedded)', {
    env: { PORT: String(port) },
    volume: makeVolume('data'),
  });
  const listening = await serve.waitFor(/listening on (http:\/\/\S+)/);
  const base = `http://127.0.0.1:${port}`;
  log(`serve (embedded): ${listening[0]}`);
  const health = await getJson(`${base}/healthz`);
  equal(health.status, 200, '/healthz status');
  const ready = await getJson(`${base}/readyz`);
  equal([ready.status, ready.body.status], [200, 'ok'], '/readyz');
  equal(await serve.health(), 0, 'the HEALTHCHECK in serve');
  // …and it fails where nothing answers (not a check that always passes).
  equal(
    await serve.health({ PORT: String(await freePort()) }),
    1,
    'the HEALTHCHECK in serve, against a closed port',
  );
  const assets = await checkWebPage(base);
  log(`serve (embedded): /healthz, /readyz, HEALTHCHECK ok; the web page and its ${assets} assets load`);
  await importAndPlay(serve, base, { owner: 'alice' });
  const stopped = await serve.stop();
  equal(stopped.code, 0, `serve (embedded) exits 0 on ${config.StopSignal}:\n${serve.output()}`);
  check(/shutting down/.test(serve.output()), 'serve (embedded) shuts down gracefully');
  log('serve (embedded): stopped cleanly');
}

async function composeRoles() {
  const compose = parseYaml(readFileSync(path.join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true });
  const apiName = 'api';
  const workerName = 'worker';
  equal(
    compose.services[workerName].image,
    compose.services[apiName].image,
    'api and worker run the same image',
  );
  const port = await freePort();
  // What a self-hoster's .env holds; the S3 test server knows only its own key pair.
  const dotEnv = {
    POSTGRES_PASSWORD: 'unused-here',
    MINIO_ROOT_PASSWORD: 'unused-here',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    SERVICE_API_KEY: randomBytes(32).toString('hex'),
    PLAYBACK_SECRET: randomBytes(32).toString('hex'),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
  const api = composeService(compose, apiName, dotEnv);
  const worker = composeService(compose, workerName, dotEnv);

  // PostgreSQL: a fresh database on the test server. S3: the signature-verifying test server with the bucket.
  const name = `notetaker_image_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  });
  const databaseUrl = new URL(TEST_DATABASE_URL);
  databaseUrl.pathname = `/${name}`;
  const { tsImport } = await import('tsx/esm/api');
  const { startTestS3 } = await tsImport(
    pathToFileURL(path.join(REPO, 'packages/stream-server/test/helpers/s3.ts')).href,
    import.meta.url,
  );
  const s3 = await startTestS3({ bucket: api.environment.S3_BUCKET });
  cleanups.push(() => s3.stop());
  // Only what names the network differs from the compose file: the database and bucket addresses, the port.
  const hosts = { DATABASE_URL: databaseUrl.toString(), S3_ENDPOINT: s3.endpoint };

  const apiContainer = startContainer('api (serve --no-worker)', {
    args: api.command,
    env: { ...api.environment, ...hosts, PORT: String(port) },
    volume: makeVolume('api-data'),
  });
  await apiContainer.waitFor(/listening on (http:\/\/\S+)/);
  const workerContainer = startContainer('worker', {
    args: worker.command,
    env: { ...worker.environment, ...hosts },
    volume: makeVolume('worker-data'),
  });
  await workerContainer.waitFor(/worker \S+ running/);
  const base = `http://127.0.0.1:${port}`;
  equal((await getJson(`${base}/readyz`)).body.status, 'ok', 'api /readyz');
  equal(await apiContainer.health(), 0, 'the HEALTHCHECK in api');
  const composeCheck = api.healthcheck.test;
  equal(composeCheck[0], 'CMD', 'compose api healthcheck form');
  equal((await apiContainer.exec(composeCheck.slice(1))).code, 0, "the compose file's api healthcheck");
  equal(worker.healthcheck?.disable, true, "the compose file turns the worker's healthcheck off");
  equal(
    await workerContainer.health(),
    0,
    'the image HEALTHCHECK in worker (no HTTP port: passes while it runs)',
  );
  equal((await checkWebPage(base)) > 0, true, 'api serves the web page');
  log(
    `compose roles: api ${api.command.join(' ')} and worker ${worker.command.join(' ')} running on PostgreSQL ${name} and S3 ${s3.endpoint}; healthchecks ok`,
  );

  const { video, body } = await importAndPlay(apiContainer, base, { owner: 'bob' });
  check(new URL(body.hls_url).origin === base, 'the playlist comes from the API');
  const playlist = await (await fetch(body.hls_url)).text();
  check(playlist.includes(s3.endpoint), 'segments are presigned URLs on the bucket');
  const generated = (c) =>
    c
      .output()
      .split('\n')
      .some((line) => line.includes('"generation succeeded"') && line.includes(video.id));
  check(generated(workerContainer), `the worker generated ${video.id}:\n${workerContainer.output()}`);
  check(!generated(apiContainer), 'the API (serve --no-worker) did not generate');
  const refused = s3.requests.filter((request) => request.outcome !== 'forwarded');
  equal(refused, [], 'every S3 request from the image was correctly signed');
  check(
    s3.requests.some((request) => request.method === 'PUT'),
    'the image wrote to the bucket',
  );
  log('compose roles: the worker generated, the API did not');
  for (const container of [workerContainer, apiContainer]) {
    const stopped = await container.stop();
    equal(stopped.code, 0, `${container.name} exits 0 on ${config.StopSignal}:\n${container.output()}`);
  }
  log('compose roles: stopped cleanly');
}

async function cleanup() {
  while (cleanups.length) {
    const step = cleanups.pop();
    try {
      await step();
    } catch (error) {
      console.error(`cleanup: ${error}`);
    }
  }
}

let failed = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    console.error(`image smoke: ${signal}, cleaning up`);
    cleanup().finally(() => process.exit(1));
  });
}
try {
  checkImageConfig();
  checkImageFiles();
  log(
    `image config and files ok (USER node = uid ${user.uid}, ENTRYPOINT ${config.Entrypoint.join(' ')}, CMD ${config.Cmd.join(' ')})`,
  );
  const video = await makeVideo();
  copyIntoImage(video, 'tmp/smoke.mp4');
  await embedded();
  await composeRoles();
} catch (error) {
  failed = true;
  console.error(`\nIMAGE SMOKE RUN FAILED: ${error instanceof Error ? error.stack : error}`);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
