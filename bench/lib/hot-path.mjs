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

import autocannon from 'autocannon';
import pg from 'pg';

const exec = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const OWNER = 'bench-hot-path';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Targets of these rows (issue: many viewers; docs/performance.md). */
export const HOT_PATH_TARGETS = [
  ['stream_ready_rps_ratio ≥ 0.8', (r) => r.stream_ready_rps_ratio >= 0.8],
  ['stream_ready_rps_ratio_embedded ≥ 0.5', (r) => r.stream_ready_rps_ratio_embedded >= 0.5],
  ['idle_rss_embedded_mb ≤ 200', (r) => r.idle_rss_embedded_mb <= 200],
];

/** RSS (MB) of `pid` from /proc. */
function rssMb(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : null;
}

/** RSS of the embedded server (`serve` with its defaults, a new data folder) 5 s after it answers `/healthz`. */
export async function idleRssEmbedded({ cliPath, startServerProcess, dataDir }) {
  await mkdir(dataDir, { recursive: true });
  const server = await startServerProcess({ cliPath, env: { DATA_DIR: dataDir } });
  try {
    for (
      let i = 0;
      i < 100 &&
      !(await fetch(`${server.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      ));
      i += 1
    ) {
      await sleep(100);
    }
    await sleep(5000);
    return rssMb(server.pid);
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
  for (let i = 0; i < 600; i += 1) {
    const body = await (
      await fetch(`${server.url}/api/videos/${id}/stream`, { headers: { authorization: `Bearer ${token}` } })
    ).json();
    if (body.status === 'ready') return id;
    if (body.status === 'failed') throw new Error(`bench video failed: ${body.error_message}`);
    await sleep(200);
  }
  throw new Error('bench video not ready after 120 s');
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
 * `stream_ready_rps_ratio_embedded` (the server on PGlite ÷ the same floor), each side loaded in turn in this run.
 * PostgreSQL comes from `BENCH_DATABASE_URL` (default the local server's `postgres` database); a database is made
 * and dropped for the run.
 */
export async function streamReadyRatios({
  cliPath,
  startServerProcess,
  dataRoot,
  ffmpegPath,
  log,
  seconds = 10,
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
  try {
    const env = { DATABASE_URL: databaseUrl, DATA_DIR: join(dataRoot, 'hot-path-pg'), RENDITIONS: 'off' };
    await mkdir(env.DATA_DIR, { recursive: true });
    const server = await startServerProcess({ cliPath, env: { ...env, WORKER_TASK_CONCURRENCY: '0' } });
    let floorRps;
    try {
      const token = await server.token(OWNER);
      const id = await readyVideo(server, clip, token);
      const secrets = JSON.parse(await readFile(join(env.DATA_DIR, 'secrets.json'), 'utf8'));
      const floor = await startFloor({
        DATABASE_URL: databaseUrl,
        JWT_SECRET: secrets.jwtSecret,
        PLAYBACK_SECRET: secrets.playbackSecret,
      });
      try {
        log(`hot path: /stream floor (bare Hono + pg + jose), ${seconds} s…`);
        const floorLoad = await load(`${floor.url}/api/videos/${id}/stream`, token, seconds);
        log(`hot path: /stream on PostgreSQL, ${seconds} s…`);
        const service = await load(`${server.url}/api/videos/${id}/stream`, token, seconds);
        floorRps = floorLoad.rps;
        Object.assign(rows, {
          stream_floor_rps: Math.round(floorLoad.rps),
          stream_floor_p50_ms: floorLoad.p50Ms,
          stream_ready_pg_rps: Math.round(service.rps),
          stream_ready_pg_p50_ms: service.p50Ms,
          stream_ready_pg_p99_ms: service.p99Ms,
          stream_ready_pg_non2xx: service.bad,
          stream_ready_rps_ratio: Number((service.rps / floorLoad.rps).toFixed(2)),
        });
      } finally {
        await floor.stop();
      }
    } finally {
      await server.stop();
    }

    const embeddedDir = join(dataRoot, 'hot-path-embedded');
    await mkdir(embeddedDir, { recursive: true });
    const embedded = await startServerProcess({
      cliPath,
      env: { DATA_DIR: embeddedDir, RENDITIONS: 'off', WORKER_TASK_CONCURRENCY: '0' },
    });
    try {
      const token = await embedded.token(OWNER);
      const id = await readyVideo(embedded, clip, token);
      log(`hot path: /stream on PGlite, ${seconds} s…`);
      const service = await load(`${embedded.url}/api/videos/${id}/stream`, token, seconds);
      Object.assign(rows, {
        stream_ready_embedded_rps: Math.round(service.rps),
        stream_ready_embedded_p99_ms: service.p99Ms,
        stream_ready_rps_ratio_embedded: Number((service.rps / floorRps).toFixed(2)),
      });
    } finally {
      await embedded.stop();
    }
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.end();
  }
  return rows;
}
