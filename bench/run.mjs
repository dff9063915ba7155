// `npm run bench`: instant playback at any length, measured end to end on this machine.
//
// Makes its own media, runs the real server as a child process (`node packages/stream-server/dist/cli.js serve`)
// with the embedded defaults and with the S3 test server, plays in headless Chromium with hls.js, and prints a table
// that is also written to bench/results.json. See docs/performance.md for what each number means.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import autocannon from 'autocannon';
import { build } from 'esbuild';

import { startBrowser } from './lib/browser.mjs';
import { HOT_PATH_ROWS, HOT_PATH_TARGETS, idleRssEmbedded, streamReadyRatios } from './lib/hot-path.mjs';
import { measureFirstViews } from './lib/first-views.mjs';
import { prepareMedia } from './lib/media.mjs';
import { cdnOriginFetchesPerObject } from './lib/cdn-origin-fetches.mjs';
import {
  cpuSeconds,
  treeCpuSeconds,
  killChildren,
  sampleServer,
  startS3Process,
  startServerProcess,
} from './lib/processes.mjs';

const exec = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const serverDist = join(repoRoot, 'packages/stream-server/dist');
const cliPath = join(serverDist, 'cli.js');
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OWNER = 'bench-user';
const SEGMENT_SECONDS = 6;
/**
 * First views per length (each of a freshly imported copy), alternating 1 min and 60 min, and bare remuxes. On two
 * shared cores a single first view varies by ±100 ms; the figures below are medians, every sample is kept.
 */
const VIEWS = 3;

const began = Date.now();
const log = (message) =>
  process.stdout.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (value, digits = 2) =>
  value === null || value === undefined ? null : Number(value.toFixed(digits));
const median = (values) => percentile(values, 50);
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};

process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}

async function loadAverage() {
  return os.loadavg().map((l) => round(l, 2));
}

/**
 * Waits until the page cache's dirty pages are on disk. Putting the sources into storage writes 1.3 GB and every
 * 60-minute generation another 1.2 GB; without this, whatever is measured next shares the disk with that
 * write-back (a real first view rarely follows its upload by seconds), and the bare remux would be slowed by the
 * generation that ran before it.
 */
async function flushWrites(name) {
  const started = performance.now();
  await exec('sync');
  const seconds = (performance.now() - started) / 1000;
  if (seconds > 0.5) log(`${name}: waited ${seconds.toFixed(1)} s for earlier writes to reach the disk`);
}

/** The server's storage, opened from the same configuration, as an operator's own tooling would. */
async function openStorage(server) {
  const { loadConfig } = await import(pathToFileURL(join(serverDist, 'config/load-config.js')).href);
  const { loadOrCreateSecrets } = await import(pathToFileURL(join(serverDist, 'config/secrets.js')).href);
  const { createStorage } = await import(pathToFileURL(join(serverDist, 'server/create-storage.js')).href);
  const config = loadConfig(server.env);
  const secrets = await loadOrCreateSecrets(config.dataDir, {});
  return createStorage(config, { storageSecret: secrets.storageSecret, publicBaseUrl: () => server.url });
}

/**
 * Puts a file into the bucket and registers it with `POST /api/manage/videos/import` (an object already in the
 * bucket), so the upload's bytes never pass through the measured server process.
 */
async function importVideo(server, storage, file, title, copy = 0) {
  const sourceKey = `uploads/${OWNER}/${copy > 0 ? `${copy}-` : ''}${basename(file)}`;
  await storage.putFile(sourceKey, file, {
    contentType: file.endsWith('.webm') ? 'video/webm' : 'video/mp4',
  });
  const response = await fetch(`${server.url}/api/manage/videos/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await serviceKey(server)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ owner_id: OWNER, source_key: sourceKey, title }),
  });
  if (response.status !== 201)
    throw new Error(`import answered ${response.status}: ${await response.text()}`);
  return { id: (await response.json()).id, sourceKey };
}

async function serviceKey(server) {
  return JSON.parse(await readFile(join(server.env.DATA_DIR, 'secrets.json'), 'utf8')).serviceApiKey;
}

async function manageGet(server, id) {
  const response = await fetch(`${server.url}/api/manage/videos/${id}`, {
    headers: { authorization: `Bearer ${await serviceKey(server)}` },
  });
  if (!response.ok) throw new Error(`manage GET ${id}: HTTP ${response.status}`);
  return response.json();
}

/** Polls the management API (which never starts a generation) until the video is ready; returns the row. */
async function waitReady(server, id, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const video = await manageGet(server, id);
    if (video.hls_status === 'ready') return { video, seenAt: Date.now() };
    if (video.hls_status === 'failed') throw new Error(`generation failed: ${video.hls_error_message}`);
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * The first view of a freshly imported video: time to first frame in Chromium, time to `ready`, and the server's
 * memory and temp space while it generates.
 */
async function firstView({ server, browser, id, token, untilReady }) {
  const sampler = sampleServer({ pid: server.pid, tempDir: join(server.env.DATA_DIR, 'tmp', 'generation') });
  const ready = untilReady ? waitReady(server, id) : undefined;
  let ttff;
  try {
    ttff = await browser.measureTtff({ api: server.url, videoId: id, token });
  } catch (error) {
    sampler.stop();
    throw error;
  }
  let readyS = null;
  if (ready) {
    const { video, seenAt } = await ready;
    const at = video.hls_generated_at ? Date.parse(video.hls_generated_at) : seenAt;
    readyS = (at - ttff.t0Epoch) / 1000;
  }
  const memory = sampler.stop();
  return {
    ttffS: ttff.ttffMs / 1000,
    urlS: ttff.urlMs / 1000,
    answers: ttff.answers
      .map((a) => `${a.http}${a.playable ? ' playable' : ''} ${a.status} in ${a.ms} ms`)
      .join(', '),
    playedLive: ttff.live,
    phases: Object.entries({ answer: Math.round(ttff.urlMs), ...ttff.phases, frame: Math.round(ttff.ttffMs) })
      .map(([name, ms]) => `${name} ${ms}`)
      .join(', '),
    readyS,
    ...memory,
  };
}

/** A bare `ffmpeg -c copy` HLS remux of the same source, read from the same presigned storage URL, into `outRoot`. */
async function bareFfmpeg(server, storage, sourceKey, { outRoot, store }) {
  const url = await storage.presignGet(sourceKey, { expiresInSeconds: 3600 });
  const out = await mkdtemp(join(outRoot, 'remux-'));
  const cpuBefore = cpuSeconds(process.pid) + treeCpuSeconds(server.pid);
  const started = performance.now();
  await exec(FFMPEG, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', url, '-c', 'copy'],
    ...[
      '-f',
      'hls',
      '-hls_time',
      String(SEGMENT_SECONDS),
      '-hls_list_size',
      '0',
      '-hls_playlist_type',
      'vod',
    ],
    ...[
      '-hls_segment_type',
      'mpegts',
      '-hls_segment_filename',
      join(out, 'segment%d.ts'),
      join(out, 'playlist.m3u8'),
    ],
  ]);
  const seconds = (performance.now() - started) / 1000;
  // ffmpeg's CPU (a waited-for child of this process) plus the server's (it serves the source in embedded mode).
  const cpuS = cpuSeconds(process.pid) + treeCpuSeconds(server.pid) - cpuBefore;
  // What storing that output costs on its own: every file put into the same storage, 4 at a time (the server's
  // UPLOAD_CONCURRENCY default). Generation overlaps remuxing and storing; the baseline does them one after other.
  if (!store) return { seconds, cpuS, storeSeconds: null };
  const prefix = `bench/bare-${Date.now()}/`;
  const files = await readdir(out);
  await exec('sync'); // the remux's own writes are not part of storing them
  const storeStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < files.length) {
        const name = files[next++];
        // Stored as generation stores its segments (finished files: local storage links them).
        await storage.putFile(prefix + name, join(out, name), {
          contentType: name.endsWith('.ts') ? 'video/mp2t' : 'application/vnd.apple.mpegurl',
          finalFile: true,
        });
      }
    }),
  );
  const storeSeconds = (performance.now() - storeStarted) / 1000;
  await storage.deletePrefix(prefix);
  return { seconds, cpuS, storeSeconds };
}

/**
 * Time to answer the signed playlist of a ready video: the first request (every segment URI presigned afresh) and
 * the median of the repeated requests that follow (a player reloading, or more viewers of the same video).
 */
async function playlistLatency(hlsUrl, { count = 100, budgetMs = 20_000 } = {}) {
  let segments = 0;
  const times = [];
  const deadline = Date.now() + budgetMs;
  while (times.length < count + 1 && (times.length < 11 || Date.now() < deadline)) {
    const started = performance.now();
    const response = await fetch(hlsUrl);
    const text = await response.text();
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`playlist answered ${response.status}`);
    times.push(ms);
    segments = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
  }
  const repeated = times.slice(1);
  return {
    firstMs: times[0],
    p50Ms: percentile(repeated, 50),
    p99Ms: percentile(repeated, 99),
    count: repeated.length,
    segments,
  };
}

/** `/stream` of a ready video under 100 concurrent connections for 5 s. */
async function streamLoad(server, id, token) {
  const result = await autocannon({
    url: `${server.url}/api/videos/${id}/stream`,
    connections: 100,
    duration: 5,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requestsPerSecond: result.requests.average,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function gzSize({ entry, external = [], platform = 'browser', conditions = [] }) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform,
    target: 'es2022',
    conditions,
    external,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  return round(gzipSync(result.outputFiles[0].contents, { level: 9 }).length / 1024, 2);
}

/**
 * Bundle sizes as the packages' own scripts/check-size.mjs compute them (min + gzip -9). The player's is that
 * script's own measure: bundled with code splitting, what loads up front (`player_kb_gz`) and the lazy chunks apart
 * from hls.js (`player_lazy_kb_gz`).
 */
async function bundleSizes() {
  const player = join(repoRoot, 'packages/player-element/dist/define.js');
  const { playerSize } = await import(
    pathToFileURL(join(repoRoot, 'packages/player-element/scripts/check-size.mjs')).href
  );
  const playerSizes = existsSync(player) ? await playerSize(player) : null;
  return {
    player_kb_gz: playerSizes && round(playerSizes.upfront.gzipped / 1024, 2),
    player_lazy_kb_gz: playerSizes && round(playerSizes.lazy.gzipped / 1024, 2),
    sdk_kb_gz: await gzSize({
      entry: join(repoRoot, 'packages/client-sdk/src/index.ts'),
      platform: 'neutral',
    }),
  };
}

/**
 * One storage setup on one server process: a warm-up first view (a 10-second clip, not reported), then the first
 * views of the 1-minute and the 60-minute video one after the other (same process, so their memory is comparable),
 * the bare-ffmpeg baseline, playlist and /stream latency, and last the first view of a video that must be transcoded.
 */
async function runVariant({ name, browser, media, baseEnv, dataRoot }) {
  const results = {};
  const dataDir = join(dataRoot, name);
  await mkdir(dataDir, { recursive: true });
  const server = await startServerProcess({
    cliPath,
    // After-ready tasks (poster, storyboard, lower renditions) are off: they start only once a video is ready, so
    // they change none of the figures below, but on 2 cores they would slow whatever is measured next.
    env: {
      ...baseEnv,
      DATA_DIR: dataDir,
      SEGMENT_SECONDS: String(SEGMENT_SECONDS),
      WORKER_TASK_CONCURRENCY: '0',
    },
  });
  const storage = await openStorage(server);
  try {
    const token = await server.token(OWNER);
    log(
      `${name}: putting the sources into storage (${(media.sizes.min60 / 1e9).toFixed(2)} GB for 60 minutes)…`,
    );
    const warm = await importVideo(server, storage, media.clip, 'warm-up clip');
    const copies = { '1min': [], '60min': [] };
    for (let round = 1; round <= VIEWS; round += 1) {
      copies['1min'].push(await importVideo(server, storage, media.min1, `1-minute 720p #${round}`, round));
      copies['60min'].push(
        await importVideo(server, storage, media.min60, `60-minute 720p #${round}`, round),
      );
    }
    const vp9 = await importVideo(server, storage, media.vp9, '2-minute VP9/Opus 720p');

    await flushWrites(name);
    log(`${name}: warm-up view…`);
    await firstView({ server, browser, id: warm.id, token, untilReady: true });
    await sleep(1000);

    // Rounds of: a first view of each length, then a bare remux; what the disk is doing varies from minute to minute,
    // so the two sides of each ratio are measured in turn.
    const views = { '1min': [], '60min': [] };
    const bares = [];
    const bareRoot = await mkdtemp(join(os.tmpdir(), 'notetaker-bench-bare-'));
    for (let round = 0; round < VIEWS; round += 1) {
      for (const label of ['1min', '60min']) {
        await flushWrites(name);
        log(`${name}: first view of a ${label} video (${round + 1} of ${VIEWS})…`);
        views[label].push(
          await firstView({ server, browser, id: copies[label][round].id, token, untilReady: true }),
        );
        await sleep(1000);
      }
      await flushWrites(name);
      log(`${name}: bare ffmpeg remux of the same source URL (${round + 1} of ${VIEWS})…`);
      // Its output stays until the end, as generation's stored segments do. Storing it is measured once: the same
      // files every time.
      bares.push(
        await bareFfmpeg(server, storage, copies['60min'][round].sourceKey, {
          outRoot: bareRoot,
          store: round === 0,
        }),
      );
    }
    await rm(bareRoot, { recursive: true, force: true });
    for (const [label, all] of Object.entries(views)) {
      const ttffs = all.map((view) => view.ttffS);
      // The view whose first frame is the median one, for the step-by-step figures.
      const typical = all.find((view) => view.ttffS === median(ttffs));
      Object.assign(results, {
        [`ttff_${label}_s`]: round(median(ttffs)),
        [`ttff_${label}_samples_s`]: ttffs.map((value) => round(value)),
        [`ready_${label}_s`]: round(median(all.map((view) => view.readyS))),
        [`ready_${label}_samples_s`]: all.map((view) => round(view.readyS)),
        [`cpu_ready_${label}_s`]: median(all.map((view) => view.cpuS)),
        [`rss_before_${label}_mb`]: all[0].startRssMb,
        // Memory: the highest of the views, not a median.
        [`rss_peak_${label}_mb`]: Math.max(...all.map((view) => view.rssPeakMb)),
        [`ffmpeg_rss_peak_${label}_mb`]: Math.max(...all.map((view) => view.ffmpegPeakMb)),
        [`tmp_peak_${label}_mb`]: Math.max(...all.map((view) => view.tmpPeakMb)),
        [`stream_answers_${label}`]: typical.answers,
        [`ttff_phases_${label}_ms`]: typical.phases,
      });
    }

    const min60 = copies['60min'][0];
    results.bare_ffmpeg_60min_s = round(median(bares.map((bare) => bare.seconds)));
    results.bare_ffmpeg_60min_samples_s = bares.map((bare) => round(bare.seconds));
    results.ready_ratio = round(results.ready_60min_s / results.bare_ffmpeg_60min_s);
    results.cpu_bare_60min_s = round(median(bares.map((bare) => bare.cpuS)));
    results.bare_store_60min_s = round(bares[0].storeSeconds);
    results.ready_vs_remux_then_store = round(
      results.ready_60min_s / (results.bare_ffmpeg_60min_s + results.bare_store_60min_s),
    );
    results.cpu_ratio = round(results.cpu_ready_60min_s / results.cpu_bare_60min_s);

    log(`${name}: signed playlist latency…`);
    const stream = await (
      await fetch(`${server.url}/api/videos/${min60.id}/stream`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json();
    const playlist = await playlistLatency(stream.hls_url);
    results.playlist_segments = playlist.segments;
    results.playlist_600_first_ms = round(playlist.firstMs);
    results.playlist_600_p50_ms = round(playlist.p50Ms);
    results.playlist_600_p99_ms = round(playlist.p99Ms);

    log(`${name}: 50 viewer sessions of the 60-min video through nginx proxy_cache…`);
    const cdn = await cdnOriginFetchesPerObject({
      apiUrl: server.url,
      origin: baseEnv.S3_ENDPOINT ?? server.url,
      videoId: min60.id,
      ownerToken: () => server.token(OWNER),
      serviceKey: await serviceKey(server),
    });
    results.cdn_origin_fetches_per_object = round(cdn.perObject);

    log(`${name}: /stream of a ready video under 100 concurrent connections…`);
    const load = await streamLoad(server, min60.id, token);
    results.stream_ready_p50_ms = load.p50Ms;
    results.stream_ready_p99_ms = load.p99Ms;
    results.stream_ready_rps = round(load.requestsPerSecond, 0);
    results.stream_ready_non2xx = load.non2xx + load.errors;

    log(`${name}: first view of the VP9/Opus video (transcode)…`);
    await sleep(1000);
    const transcode = await firstView({ server, browser, id: vp9.id, token, untilReady: false });
    results.ttff_transcode_s = round(transcode.ttffS);
    results.stream_answers_transcode = transcode.answers;
    results.ttff_phases_transcode_ms = transcode.phases;
  } finally {
    await storage.close?.();
    // Stops the transcode still running (the job is handed back; nothing else needs it).
    await server.stop();
  }
  return results;
}

const TARGETS = [
  ['ttff_60min_s ≤ 1.2 × ttff_1min_s', (r) => r.ttff_60min_s <= 1.2 * r.ttff_1min_s],
  ['ttff_60min_s ≤ 2 s', (r) => r.ttff_60min_s <= 2],
  ['ready_ratio ≤ 1.5', (r) => r.ready_ratio <= 1.5],
  ['rss_peak_60min_mb − rss_peak_1min_mb ≤ 30 MB', (r) => r.rss_peak_60min_mb - r.rss_peak_1min_mb <= 30],
  // What `ready` is held to when the storage shares the machine (docs/decisions/0012).
  ['ready_vs_remux_then_store ≤ 1.5', (r) => r.ready_vs_remux_then_store <= 1.5],
  // A URL-keyed cache stores one copy per object per signing window (docs/decisions/0016).
  ['cdn_origin_fetches_per_object ≤ 1.0', (r) => r.cdn_origin_fetches_per_object <= 1],
];

const ROWS = [
  ['ttff_1min_s', 'first /stream → first frame, 1-min 720p (s, median)'],
  ['ttff_60min_s', 'first /stream → first frame, 60-min 720p (s, median)'],
  ['ttff_1min_samples_s', '… each first view, 1-min (s)'],
  ['ttff_60min_samples_s', '… each first view, 60-min (s)'],
  ['ttff_transcode_s', 'first /stream → first frame, VP9/Opus → H.264 (s)'],
  ['ready_1min_s', 'first /stream → ready, 1-min (s)'],
  ['ready_60min_s', 'first /stream → ready, 60-min (s)'],
  ['ready_60min_samples_s', '… each first view, 60-min (s)'],
  ['bare_ffmpeg_60min_s', 'bare ffmpeg -c copy HLS remux, same URL (s)'],
  ['bare_ffmpeg_60min_samples_s', '… each remux (s)'],
  ['ready_ratio', 'ready_60min / bare ffmpeg'],
  ['bare_store_60min_s', 'storing the bare output in the same storage (s)'],
  ['ready_vs_remux_then_store', 'ready_60min / (bare remux + storing it)'],
  ['cpu_ready_60min_s', 'CPU used until ready, 60-min: server + ffmpeg (s)'],
  ['cpu_bare_60min_s', 'CPU used by the bare remux: ffmpeg + server (s)'],
  ['cpu_ratio', 'CPU ratio, generation / bare remux'],
  ['rss_before_1min_mb', 'server RSS before the 1-min first view (MB)'],
  ['rss_peak_1min_mb', 'server peak RSS while generating 1-min (MB)'],
  ['rss_before_60min_mb', 'server RSS before the 60-min first view (MB)'],
  ['rss_peak_60min_mb', 'server peak RSS while generating 60-min (MB)'],
  ['ffmpeg_rss_peak_1min_mb', 'ffmpeg peak RSS, 1-min (MB, separate process)'],
  ['ffmpeg_rss_peak_60min_mb', 'ffmpeg peak RSS, 60-min (MB, separate process)'],
  ['tmp_peak_1min_mb', 'generation temp folder peak, 1-min (MB)'],
  ['tmp_peak_60min_mb', 'generation temp folder peak, 60-min (MB)'],
  ['playlist_segments', 'segments in the 60-min playlist'],
  ['playlist_600_first_ms', 'signed playlist (600 segments), first request (ms)'],
  ['playlist_600_p50_ms', 'signed playlist (600 segments), repeated, p50 (ms)'],
  ['cdn_origin_fetches_per_object', 'origin fetches ÷ objects, 50 sessions × 20 segments via nginx'],
  ['stream_ready_p99_ms', '/stream ready, 100 concurrent, p99 (ms)'],
  ['stream_ready_rps', '/stream ready, 100 concurrent, req/s'],
];

/** Embedded server only (bench/lib/first-views.mjs): the slowest of simultaneous first views to a playable answer. */
const FIRST_VIEW_ROWS = [
  ['first_views_8_single_s', 'lone first view, 30-s 1080p H.264 → playable (s)'],
  ['first_views_8_p100_s', '8 simultaneous first views, slowest → playable (s; target ≤ 1.5)'],
  ['first_views_8_samples_s', '… each of the 8 (s)'],
  ['first_views_8_server_cpu_ms', '… server process CPU while the 8 became playable (ms)'],
  ['first_views_transcode_4_p100_s', '4 simultaneous VP9/Opus first views, slowest (s; target ≤ 3)'],
];

const FIRST_VIEW_TARGETS = [
  ['first_views_8_p100_s ≤ 1.5 s', (r) => r.first_views_8_p100_s <= 1.5],
  ['first_views_transcode_4_p100_s ≤ 3 s', (r) => r.first_views_transcode_4_p100_s <= 3],
];

function printTable(results, wanted) {
  const variants = ['embedded', 's3'].filter((v) => results.variants[v]);
  const lines = [];
  const header = ['metric', ...variants, ...(variants.length === 0 ? ['value'] : [])];
  const blank = Array.from({ length: Math.max(0, header.length - 2) }, () => '');
  const body = variants.length
    ? ROWS.map(([key, label]) => [
        label,
        ...variants.map((v) => {
          const value = results.variants[v]?.[key];
          return Array.isArray(value) ? value.join(' / ') : String(value ?? '–');
        }),
      ])
    : [];
  const add = (label, value) => body.push([label, value, ...blank]);
  if (wanted('sizes')) {
    add('player bundle loaded up front, min+gzip (kB)', String(results.player_kb_gz ?? '–'));
    add('player lazy chunks but hls.js, min+gzip (kB)', String(results.player_lazy_kb_gz ?? '–'));
    add('client SDK bundle, min+gzip (kB)', String(results.sdk_kb_gz));
  }
  if (wanted('first-views')) {
    for (const [key, label] of FIRST_VIEW_ROWS) {
      const value = results[key];
      add(`${label} [${key}]`, Array.isArray(value) ? value.join(' / ') : String(value ?? '–'));
    }
  }
  const spawn = results.spawn_cost;
  if (spawn) {
    add(
      `starting ffprobe blocks a ${spawn.rss_mb} MB process, directly (ms)`,
      `${spawn.direct_median_ms} (max ${spawn.direct_max_ms})`,
    );
    add('… through the launcher helper (ms)', `${spawn.launcher_median_ms} (max ${spawn.launcher_max_ms})`);
  }
  for (const [key, label, section] of HOT_PATH_ROWS) {
    if (wanted(section)) add(`${label} [${key}]`, String(results[key] ?? '–'));
  }
  const widths = header.map((_, i) => Math.max(header[i].length, ...body.map((row) => row[i].length)));
  const fmt = (row) =>
    `| ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  lines.push(
    fmt(header),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  );
  for (const row of body) lines.push(fmt(row));
  lines.push('');
  if (variants.length > 0) {
    for (const [label, check] of TARGETS) {
      const marks = variants.map((v) => (check(results.variants[v]) ? 'met' : 'MISSED'));
      lines.push(`target ${label}: ${variants.map((v, i) => `${v} ${marks[i]}`).join(', ')}`);
    }
  }
  for (const [label, met] of Object.entries(results.hot_path_targets ?? {})) {
    lines.push(`target ${label}: ${met ? 'met' : 'MISSED'}`);
  }
  if (wanted('first-views')) {
    for (const [label, check] of FIRST_VIEW_TARGETS)
      lines.push(`target ${label}: embedded ${check(results) ? 'met' : 'MISSED'}`);
  }
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

/**
 * Sections of the bench, in the order they run. `--only a,b` runs those alone (e.g. the hot-path rows on a quiet
 * machine); the default runs them all.
 */
const SECTIONS = ['spawn-cost', 'first-views', 'idle-rss', 'hot-path', 'embedded', 's3', 'sizes'];

/** The sections `--only` (or `--only=`) names, or every section. Unknown names are refused with the list. */
function selectedSections(argv) {
  const at = argv.findIndex((arg) => arg === '--only' || arg.startsWith('--only='));
  if (at === -1) return new Set(SECTIONS);
  const value = argv[at].startsWith('--only=') ? argv[at].slice('--only='.length) : argv[at + 1];
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !SECTIONS.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(
      `--only takes a comma-separated list of sections: ${SECTIONS.join(', ')}` +
        (unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : ''),
    );
  }
  return new Set(names);
}

async function main() {
  const sections = selectedSections(process.argv.slice(2));
  const wanted = (section) => sections.has(section);
  if (!existsSync(cliPath))
    throw new Error('Build the server first: npm run build -w @notetaker/stream-server');
  const { stdout: ffmpegVersion } = await exec(FFMPEG, ['-version']);
  const cacheDir = join(repoRoot, '.tmp', 'bench-media');
  const dataRoot = await mkdtemp(join(os.tmpdir(), 'notetaker-bench-'));
  const loadBefore = await loadAverage();
  log(`load average before: ${loadBefore.join(' ')} on ${os.availableParallelism()} cores`);
  if (sections.size < SECTIONS.length) log(`sections: ${[...sections].join(', ')}`);
  let spawnCost;
  if (wanted('spawn-cost')) {
    log('how long starting ffprobe blocks an 800 MB process, directly and through the launcher helper…');
    spawnCost = JSON.parse(
      (await exec(process.execPath, [join(repoRoot, 'bench', 'spawn-cost.mjs'), serverDist, '800'])).stdout,
    );
  }
  let firstViews = {};
  if (wanted('first-views')) {
    log('simultaneous first views of distinct videos…');
    firstViews = await measureFirstViews({
      cliPath,
      serverDist,
      ffmpegPath: FFMPEG,
      cacheDir,
      dataRoot,
      log,
    });
  }
  const variants = {};
  const hotPath = {};
  let browser;
  let s3;
  let media;
  try {
    if (wanted('idle-rss')) {
      log('hot path: idle RSS of the embedded server…');
      Object.assign(
        hotPath,
        await idleRssEmbedded({ cliPath, startServerProcess, dataDir: join(dataRoot, 'idle-rss'), log }),
      );
    }
    if (wanted('hot-path')) {
      log('hot path: /stream against its floor…');
      Object.assign(
        hotPath,
        await streamReadyRatios({ cliPath, startServerProcess, dataRoot, ffmpegPath: FFMPEG, log }),
      );
    }
    if (wanted('embedded') || wanted('s3')) {
      media = await prepareMedia({ dir: cacheDir, ffmpegPath: FFMPEG, log });
      browser = await startBrowser({ chromiumPath: CHROMIUM });
      if (wanted('embedded')) {
        variants.embedded = await runVariant({ name: 'embedded', browser, media, baseEnv: {}, dataRoot });
      }
      if (wanted('s3')) {
        s3 = await startS3Process({ repoRoot });
        variants.s3 = await runVariant({ name: 's3', browser, media, baseEnv: s3.env, dataRoot });
      }
    }
  } finally {
    await browser?.close();
    await s3?.stop();
    await rm(dataRoot, { recursive: true, force: true });
  }
  const sizes = wanted('sizes') ? await bundleSizes() : {};
  const embedded = variants.embedded ?? {};
  const results = {
    sections: [...sections],
    // The headline numbers are the embedded defaults'; `variants` holds both setups, measured in this same run.
    ttff_1min_s: embedded.ttff_1min_s,
    ttff_60min_s: embedded.ttff_60min_s,
    ttff_transcode_s: embedded.ttff_transcode_s,
    ready_60min_s: embedded.ready_60min_s,
    bare_ffmpeg_60min_s: embedded.bare_ffmpeg_60min_s,
    ready_ratio: embedded.ready_ratio,
    rss_peak_1min_mb: embedded.rss_peak_1min_mb,
    rss_peak_60min_mb: embedded.rss_peak_60min_mb,
    playlist_600_p50_ms: embedded.playlist_600_p50_ms,
    stream_ready_p99_ms: embedded.stream_ready_p99_ms,
    ...sizes,
    ...hotPath,
    hot_path_targets: Object.fromEntries(
      HOT_PATH_TARGETS.filter(([, , section]) => wanted(section)).map(([label, check]) => [
        label,
        check(hotPath),
      ]),
    ),
    spawn_block_direct_ms: spawnCost?.direct_median_ms,
    spawn_block_launcher_ms: spawnCost?.launcher_median_ms,
    spawn_cost: spawnCost,
    ...firstViews,
    targets: Object.fromEntries(
      TARGETS.map(([label, check]) => [
        label,
        Object.fromEntries(Object.entries(variants).map(([v, r]) => [v, check(r)])),
      ]),
    ),
    variants,
    machine: {
      cpus: os.availableParallelism(),
      memory_gb: round(os.totalmem() / 1024 ** 3, 1),
      node: process.version,
      ffmpeg: ffmpegVersion.split('\n')[0],
      load_average_before: loadBefore,
      load_average_after: await loadAverage(),
    },
    media_bytes: media?.sizes,
    duration_s: round((Date.now() - began) / 1000, 1),
    measured_at: new Date().toISOString(),
  };
  await writeFile(join(repoRoot, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  printTable(results, wanted);
  log(`done; results in bench/results.json`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  killChildren();
  process.exit(1);
});
