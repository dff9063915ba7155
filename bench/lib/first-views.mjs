// Simultaneous first views of distinct never-viewed videos (docs/decisions/0014-fair-first-views.md): how long
// until each one's `/stream` answer is playable (its first segments are stored), the slowest of 8 remuxes and of 4
// transcodes at once, and a lone first view of the same file for comparison. Used by bench/run.mjs; also runs
// alone (prints its rows as JSON):
//   node bench/lib/first-views.mjs
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { cpuSeconds, killChildren, startServerProcess } from './processes.mjs';

const exec = promisify(execFile);
const OWNER = 'bench-first-views';
const MEDIA_VERSION = 1;

/** Each first view is a fresh copy (never viewed); a view is done once `/stream` answers playable or ready. */
const SIMULTANEOUS_COPIES = 8;
const SIMULTANEOUS_TRANSCODES = 4;

const round = (value) => Number(value.toFixed(2));

async function cachedMedia(file, args, ffmpegPath) {
  if (existsSync(file)) return file;
  const partial = `${file}.partial${file.slice(file.lastIndexOf('.'))}`;
  await exec(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args, partial], {
    maxBuffer: 16 * 1024 * 1024,
  });
  await rename(partial, file);
  return file;
}

/** A 30-second 1080p H.264/AAC MP4 (remuxed on a first view) and a 30-second 720p VP9/Opus WebM (transcoded). */
async function prepareFirstViewMedia({ dir, ffmpegPath }) {
  const root = join(dir, `first-views-v${MEDIA_VERSION}`);
  await mkdir(root, { recursive: true });
  const source = (size) => [
    ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-t', '30'],
  ];
  const h264 = await cachedMedia(
    join(root, 'h264-aac-1080p-30s.mp4'),
    [
      ...source('1920x1080'),
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '5000k', '-g', '60', '-pix_fmt', 'yuv420p'],
      ...['-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-movflags', '+faststart'],
    ],
    ffmpegPath,
  );
  const vp9 = await cachedMedia(
    join(root, 'vp9-opus-720p-30s.webm'),
    [
      ...source('1280x720'),
      ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-b:v', '2000k'],
      ...['-g', '300', '-c:a', 'libopus', '-b:a', '96k', '-ac', '2', '-f', 'webm'],
    ],
    ffmpegPath,
  );
  return { h264, vp9 };
}

async function openStorage(serverDist, server) {
  const { loadConfig } = await import(pathToFileURL(join(serverDist, 'config/load-config.js')).href);
  const { loadOrCreateSecrets } = await import(pathToFileURL(join(serverDist, 'config/secrets.js')).href);
  const { createStorage } = await import(pathToFileURL(join(serverDist, 'server/create-storage.js')).href);
  const config = loadConfig(server.env);
  const secrets = await loadOrCreateSecrets(config.dataDir, {});
  return createStorage(config, { storageSecret: secrets.storageSecret, publicBaseUrl: () => server.url });
}

/** Puts a copy of `file` into the bucket and registers it through the management API; returns the video id. */
async function importCopy(server, storage, file, copy) {
  const sourceKey = `uploads/${OWNER}/${copy}-${basename(file)}`;
  await storage.putFile(sourceKey, file, {
    contentType: file.endsWith('.webm') ? 'video/webm' : 'video/mp4',
  });
  const { serviceApiKey } = JSON.parse(await readFile(join(server.env.DATA_DIR, 'secrets.json'), 'utf8'));
  const response = await fetch(`${server.url}/api/manage/videos/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${serviceApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ owner_id: OWNER, source_key: sourceKey, title: `first view ${copy}` }),
  });
  if (response.status !== 201)
    throw new Error(`import answered ${response.status}: ${await response.text()}`);
  return (await response.json()).id;
}

/**
 * `GET /stream` as the viewer's client. A connection the server closed as idle just as it was reused (a keep-alive
 * race that a loaded machine makes likely) is tried again, as clients do; anything else fails the run.
 */
async function getStream(server, token, id) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch(`${server.url}/api/videos/${id}/stream`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: await response.json() };
    } catch (error) {
      if (attempt >= 3 || error?.cause?.code !== 'ECONNRESET') throw error;
    }
  }
}

/**
 * A viewer's first view as a client does it: `/stream`, then again after each `retry_after`, until the answer is
 * playable. Returns the seconds from the first request.
 */
async function untilPlayable(server, token, id) {
  const started = performance.now();
  for (;;) {
    const { status, body } = await getStream(server, token, id);
    if (status === 200 || body.playable) return (performance.now() - started) / 1000;
    if (status !== 202) throw new Error(`/stream answered ${status}: ${JSON.stringify(body)}`);
    await new Promise((done) => setTimeout(done, (body.retry_after ?? 2) * 1000));
  }
}

/** Waits until no video is generating any more, so one measurement does not run into the next. */
async function settle(server, token, ids) {
  for (const id of ids) {
    for (;;) {
      const { status } = await getStream(server, token, id);
      if (status !== 202) break;
      await new Promise((done) => setTimeout(done, 250));
    }
  }
}

/**
 * Runs the embedded server with its defaults (work after `ready` off, as in the rest of the bench), and measures:
 * a lone first view of the 1080p file, 8 simultaneous first views of 8 fresh copies of it, and 4 simultaneous
 * first views of 4 copies of the VP9/Opus file.
 *
 * @returns {Promise<Record<string, number | number[]>>} `first_views_8_single_s`, `first_views_8_p100_s`,
 *   `first_views_8_samples_s`, `first_views_8_server_cpu_ms` (the server process's own CPU time while the 8 became
 *   playable: its event loop's share, steadier than wall time on a loaded machine), `first_views_transcode_4_p100_s`,
 *   `first_views_transcode_4_samples_s`.
 */
export async function measureFirstViews({ cliPath, serverDist, ffmpegPath, cacheDir, dataRoot, log }) {
  const media = await prepareFirstViewMedia({ dir: cacheDir, ffmpegPath });
  const dataDir = join(dataRoot, 'first-views');
  await mkdir(dataDir, { recursive: true });
  const server = await startServerProcess({
    cliPath,
    env: { DATA_DIR: dataDir, WORKER_TASK_CONCURRENCY: '0' },
    // A fresh embedded database takes more than a minute to create on a loaded machine.
    startTimeoutMs: 240_000,
  });
  const storage = await openStorage(serverDist, server);
  try {
    const token = await server.token(OWNER);
    const single = await importCopy(server, storage, media.h264, 0);
    const copies = [];
    for (let i = 1; i <= SIMULTANEOUS_COPIES; i += 1)
      copies.push(await importCopy(server, storage, media.h264, i));
    const transcodes = [];
    for (let i = 1; i <= SIMULTANEOUS_TRANSCODES; i += 1)
      transcodes.push(await importCopy(server, storage, media.vp9, i));
    await exec('sync');

    log('first views: a lone first view of a 30-s 1080p H.264 video…');
    const singleS = await untilPlayable(server, token, single);
    log(`first views: lone first view playable after ${singleS.toFixed(2)} s`);
    await settle(server, token, [single]);
    log(`first views: ${SIMULTANEOUS_COPIES} simultaneous first views of distinct copies…`);
    const cpuBefore = cpuSeconds(server.pid);
    const eight = await Promise.all(copies.map((id) => untilPlayable(server, token, id)));
    const serverCpuMs = (cpuSeconds(server.pid) - cpuBefore) * 1000;
    log(`first views: playable after ${eight.map((s) => s.toFixed(2)).join(', ')} s`);
    log(`first views: the server's own CPU time meanwhile ${Math.round(serverCpuMs)} ms`);
    await settle(server, token, copies);
    log(`first views: ${SIMULTANEOUS_TRANSCODES} simultaneous first views of distinct VP9/Opus videos…`);
    const four = await Promise.all(transcodes.map((id) => untilPlayable(server, token, id)));
    log(`first views: transcodes playable after ${four.map((s) => s.toFixed(2)).join(', ')} s`);
    await settle(server, token, transcodes);
    return {
      first_views_8_single_s: round(singleS),
      first_views_8_p100_s: round(Math.max(...eight)),
      first_views_8_samples_s: eight.map(round).sort((a, b) => a - b),
      first_views_8_server_cpu_ms: Math.round(serverCpuMs),
      first_views_transcode_4_p100_s: round(Math.max(...four)),
      first_views_transcode_4_samples_s: four.map(round).sort((a, b) => a - b),
    };
  } finally {
    await storage.close?.();
    await server.stop();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const serverDist = join(repoRoot, 'packages/stream-server/dist');
  const dataRoot = await mkdtemp(join(os.tmpdir(), 'notetaker-bench-first-views-'));
  process.on('exit', killChildren);
  try {
    const rows = await measureFirstViews({
      cliPath: join(serverDist, 'cli.js'),
      serverDist,
      ffmpegPath: process.env.FFMPEG_PATH ?? 'ffmpeg',
      cacheDir: join(repoRoot, '.tmp', 'bench-media'),
      dataRoot,
      log: (message) => process.stderr.write(`${message}\n`),
    });
    process.stdout.write(`${JSON.stringify({ ...rows, load_average: os.loadavg() }, null, 2)}\n`);
  } finally {
    await rm(dataRoot, { recursive: true, force: true });
  }
}
