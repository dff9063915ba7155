// Bench rows of the hot paths (docs/performance.md): `/stream` of a ready video under 100 connections against a bare
// Hono + pg + jose floor started in the same run, on PostgreSQL and on PGlite, and the embedded server's idle RSS.
// The machine these run on is usually shared: rps figures vary from run to run; the ratios are measured back to back.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { waitForHealthy, waitForStreamReady } from '@notetaker/test-support/server-waits';
import autocannon from 'autocannon';
import pg from 'pg';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const OWNER = 'bench-hot-path';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Targets of these rows (issue: many viewers; docs/performance.md), each with the bench section that measures it. */
export const HOT_PATH_TARGETS = [
  ['stream_ready_rps_ratio ≥ 0.8', (r) => r.stream_ready_rps_ratio >= 0.8, 'hot-path'],
  ['stream_ready_rps_ratio_embedded ≥ 0.5', (r) => r.stream_ready_rps_ratio_embedded >= 0.5, 'hot-path'],
  ['idle_rss_embedded_mb ≤ 200', (r) => r.idle_rss_embedded_mb <= 200, 'idle-rss'],
  ['generating_rss_embedded_mb ≤ 300', (r) => r.generating_rss_embedded_mb <= 300, 'idle-rss'],
];

/** The rows these sections print: key, label, section. */
export const HOT_PATH_ROWS = [
  ['idle_rss_embedded_mb', 'embedded server RSS 5 s after /healthz (MB; target ≤ 200)', 'idle-rss'],
  [
    'generating_rss_embedded_mb',
    '… its peak RSS while a first view generates (MB; target ≤ 300)',
    'idle-rss',
  ],
  ['stream_floor_rps', '/stream floor: bare Hono + pg + jose, 100 connections (req/s)', 'hot-path'],
  ['stream_ready_pg_rps', '/stream ready on PostgreSQL, 100 connections (req/s)', 'hot-path'],
  ['stream_ready_pg_p99_ms', '… p99 (ms)', 'hot-path'],
  ['stream_ready_rps_ratio', '… ÷ the floor (target ≥ 0.8)', 'hot-path'],
  ['stream_ready_embedded_rps', '/stream ready on PGlite, 100 connections (req/s)', 'hot-path'],
  ['stream_ready_embedded_p99_ms', '… p99 (ms)', 'hot-path'],
  ['stream_ready_rps_ratio_embedded', '… ÷ the floor (target ≥ 0.5)', 'hot-path'],
];

/**
 * The Node options `npm start` gives the embedded server (the root package.json's `start` script): the idle-RSS
 * rows measure the server as a self-hoster starts it.
 */
export function npmStartNodeArgs() {
  const rootPackage = JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8'));
  const match = /\bnode((?: --[\w-]+(?:=\S+)?)*) packages\/stream-server\/dist\/cli\.js serve\b/.exec(
    rootPackage.scripts.start,
  );
  if (!match) throw new Error('the start script no longer runs packages/stream-server/dist/cli.js serve');
  return match[1].trim().split(/\s+/).filter(Boolean);
}

/** RSS (MB) of `pid` from /proc. */
function rssMb(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : null;
}

/**
 * The embedded server (`serve` with its defaults, a new data folder, the Node options of `npm start`): its RSS 5 s
 * after it answers `/healthz`
 * (`idle_rss_embedded_mb`), then its peak RSS, sampled every 20 ms, while the first view of a 30-second 720p
 * H.264/AAC video generates until `ready` (`generating_rss_embedded_mb`).
 */
export async function idleRssEmbedded({ cliPath, startServerProcess, dataDir, ffmpegPath = 'ffmpeg', log }) {
  await mkdir(dataDir, { recursive: true });
  const clip = join(dataDir, '..', 'rss-clip.mp4');
  await exec(ffmpegPath, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '30', '-c:v', 'libx264', '-preset', 'ultrafast'],
    ...['-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', clip],
  ]);
  const nodeArgs = npmStartNodeArgs();
  const server = await startServerProcess({
    cliPath,
    env: { DATA_DIR: dataDir },
    nodeArgs,
    // A fresh embedded database takes more than a minute to create on a loaded machine.
    startTimeoutMs: 240_000,
  });
  try {
    log?.(`hot path: the embedded server started as npm start does (node ${nodeArgs.join(' ')})`);
    await waitForHealthy(server.url);
    await sleep(5000);
    const idle = rssMb(server.pid);
    log?.(`hot path: embedded server idles at ${idle} MB; now a first view…`);
    const token = await server.token(OWNER);
    let peak = idle;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssMb(server.pid) ?? 0);
      } catch {
        // the server is gone: the run fails below
      }
    }, 20);
    try {
      await readyVideo(server, clip, token);
    } finally {
      clearInterval(sampler);
    }
    return { idle_rss_embedded_mb: idle, generating_rss_embedded_mb: peak };
  } finally {
    await server.stop();
  }
}

/** `/stream` of `id` under 100 connections for `seconds`: requests per second and latency. */
async function load(url, token, seconds) {
  const result = await autocannon({
    url,
    connections: 100,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    bad: result.non2xx + result.errors,
  };
}

/** A ready video on `server`: imported through its CLI, viewed, polled until ready. */
async function readyVideo(server, file, token) {
  const { id } = JSON.parse(await server.cli(['import', file, '--owner', OWNER]));
  await waitForStreamReady({ baseUrl: server.url, token, videoId: id, timeoutMs: 120_000, intervalMs: 200 });
  return id;
}

/** The floor route (stream-floor-server.mjs) as a child process on `databaseUrl`. */
async function startFloor(env) {
  const child = spawn(process.execPath, [join(here, 'stream-floor-server.mjs')], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    child.once('exit', (code) => reject(new Error(`floor exited (${code})`)));
    lines.on('line', (line) => {
      const match = /listening on (\S+)/.exec(line);
      if (match) resolve(match[1]);
    });
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

/**
 * `stream_ready_rps_ratio` (the server on PostgreSQL ÷ the floor on the same database) and
 * `stream_ready_rps_ratio_embedded` (the server on PGlite ÷ the same floor): the three run side by side and are
 * loaded in turn, `rounds` times `seconds` each, and each figure is the mean of its rounds.
 * PostgreSQL comes from `BENCH_DATABASE_URL` (default the local server's `postgres` database); a database is made
 * and dropped for the run.
 */
export async function streamReadyRatios({
  cliPath,
  startServerProcess,
  dataRoot,
  ffmpegPath,
  log,
  seconds = 5,
  rounds = 3,
}) {
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `notetaker_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();
  const clip = join(dataRoot, 'hot-path-clip.mp4');
  await exec(ffmpegPath, [
    ...[
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=640x360:rate=25:duration=6',
    ],
    ...['-f', 'lavfi', '-i', 'sine=duration=6', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50'],
    ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', '-movflags', '+faststart', clip],
  ]);
  const rows = {};
  const stops = [];
  try {
    const env = { DATABASE_URL: databaseUrl, DATA_DIR: join(dataRoot, 'hot-path-pg'), RENDITIONS: 'off' };
    await mkdir(env.DATA_DIR, { recursive: true });
    const server = await startServerProcess({ cliPath, env: { ...env, WORKER_TASK_CONCURRENCY: '0' } });
    stops.push(() => server.stop());
    const embeddedDir = join(dataRoot, 'hot-path-embedded');
    await mkdir(embeddedDir, { recursive: true });
    const embedded = await startServerProcess({
      cliPath,
      env: { DATA_DIR: embeddedDir, RENDITIONS: 'off', WORKER_TASK_CONCURRENCY: '0' },
      // As `npm start` runs it.
      nodeArgs: npmStartNodeArgs(),
      // A fresh embedded database takes more than a minute to create on a loaded machine.
      startTimeoutMs: 240_000,
    });
    stops.push(() => embedded.stop());
    const token = await server.token(OWNER);
    const id = await readyVideo(server, clip, token);
    const embeddedToken = await embedded.token(OWNER);
    const embeddedId = await readyVideo(embedded, clip, embeddedToken);
    const secrets = JSON.parse(await readFile(join(env.DATA_DIR, 'secrets.json'), 'utf8'));
    const floor = await startFloor({
      DATABASE_URL: databaseUrl,
      JWT_SECRET: secrets.jwtSecret,
      PLAYBACK_SECRET: secrets.playbackSecret,
    });
    stops.push(() => floor.stop());
    // The three take turns, `rounds` times, so that the load other work puts on the machine falls on all three
    // alike; each figure is the mean of its rounds.
    const targets = {
      floor: { url: `${floor.url}/api/videos/${id}/stream`, token, what: 'floor (bare Hono + pg + jose)' },
      pg: { url: `${server.url}/api/videos/${id}/stream`, token, what: 'the server on PostgreSQL' },
      embedded: {
        url: `${embedded.url}/api/videos/${embeddedId}/stream`,
        token: embeddedToken,
        what: 'the server on PGlite',
      },
    };
    const runs = { floor: [], pg: [], embedded: [] };
    for (let round = 1; round <= rounds; round += 1) {
      for (const [key, target] of Object.entries(targets)) {
        log(`hot path: /stream, ${target.what}, ${seconds} s (round ${round} of ${rounds})…`);
        runs[key].push(await load(target.url, target.token, seconds));
      }
    }
    const mean = (list, field) => list.reduce((sum, run) => sum + run[field], 0) / list.length;
    const worst = (list, field) => Math.max(...list.map((run) => run[field]));
    const floorRps = mean(runs.floor, 'rps');
    Object.assign(rows, {
      stream_floor_rps: Math.round(floorRps),
      stream_floor_p50_ms: mean(runs.floor, 'p50Ms'),
      stream_ready_pg_rps: Math.round(mean(runs.pg, 'rps')),
      stream_ready_pg_p50_ms: mean(runs.pg, 'p50Ms'),
      stream_ready_pg_p99_ms: worst(runs.pg, 'p99Ms'),
      stream_ready_pg_non2xx: runs.pg.reduce((sum, run) => sum + run.bad, 0),
      stream_ready_rps_ratio: Number((mean(runs.pg, 'rps') / floorRps).toFixed(2)),
      stream_ready_embedded_rps: Math.round(mean(runs.embedded, 'rps')),
      stream_ready_embedded_p99_ms: worst(runs.embedded, 'p99Ms'),
      stream_ready_embedded_non2xx: runs.embedded.reduce((sum, run) => sum + run.bad, 0),
      stream_ready_rps_ratio_embedded: Number((mean(runs.embedded, 'rps') / floorRps).toFixed(2)),
      stream_ready_rounds_rps: Object.fromEntries(
        Object.entries(runs).map(([key, list]) => [key, list.map((run) => Math.round(run.rps))]),
      ),
    });
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
  }
  return rows;
}
