// Starts a real @notetaker/stream-server (embedded defaults: PGlite + local storage) for the browser tests, feeds it
// media that ffmpeg makes, and hands ids, token and URL to the browser as /fixtures.json.
// The server starts with the test runner but is awaited only by tests that fetch /fixtures.json.
// A second server, started on the first request to /growing-fixtures.json, reads its sources at real time (an
// ffmpeg wrapper adding `-readrate 1` before `-i`), so that tests see a playlist still growing while they play it.
// A third one, started on the first request to /ladder-fixtures.json, makes a lower rendition after ready
// (RENDITIONS=240 on a 640×360 source) and holds a caption track added through the SDK's management client.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createStreamClient } from '@notetaker/client-sdk';
import { createManagementClient } from '@notetaker/client-sdk/server';
import { runFfmpeg, testSourceArgs } from '@notetaker/test-support/media';

/** Lifetime of playback tokens and presigned segment URLs: short, so that tests can see them expire. */
export const PRESIGN_TTL_SECONDS = 4;
const OWNER = 'player-element-tests';
const ffmpegPath = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
/** Length of the video the growing-playlist server generates slowly. */
const GROWING_SECONDS = 30;
/**
 * How much faster than real time that server reads its sources: 1, so that the playlist still grows for 20 s after
 * a test starts its player at 10 s listed. At 2× a WebKit page on a busy machine sometimes started playing only
 * after the playlist was complete.
 */
const GROWING_READ_RATE = 1;

/** Length of the video of the ladder server, its source height and the rung it makes below it. */
const LADDER_SECONDS = 6;
const LADDER_SOURCE_HEIGHT = 360;
const LADDER_RUNG_HEIGHT = 240;
/** The caption track the ladder server holds: one cue over nearly the whole video, so that it shows at any time. */
const LADDER_CAPTION_TEXT = 'Captions from the stream server';
const LADDER_VTT = `WEBVTT\n\n00:00.000 --> 00:05.900\n${LADDER_CAPTION_TEXT}\n`;

/** An ffmpeg that reads its input at `rate`× real time: `-readrate <rate>` is inserted before every `-i`. */
function writeSlowFfmpeg(dir, rate) {
  const file = path.join(dir, `slow-ffmpeg-${rate}`);
  writeFileSync(
    file,
    `#!/bin/sh\nfor arg do\n  shift\n  if [ "$arg" = "-i" ]; then set -- "$@" -readrate ${rate}; fi\n  set -- "$@" "$arg"\ndone\nexec '${ffmpegPath}' "$@"\n`,
    { mode: 0o755 },
  );
  return file;
}

/** Runs ffmpeg into a temporary name, then renames: an interrupted run never leaves a half-written cached file. */
async function makeCached(file, args) {
  if (existsSync(file)) return file;
  const partial = file.replace(/\.mp4$/, '.partial.mp4');
  await runFfmpeg([...args, partial]);
  renameSync(partial, file);
  return file;
}

function makeMp4(file, seconds) {
  return makeCached(file, [...testSourceArgs(seconds), '-movflags', '+faststart']);
}

/**
 * 1080p MPEG-4 Part 2: the server must transcode it to H.264, so a first view is likely to see "generating" before
 * the first segments land (the server holds a first answer up to 1.5 s, which covers a fast remux).
 */
function makeHeavyMp4(file) {
  return makeCached(file, [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1920x1080:rate=30:duration=20',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=20',
    '-c:v',
    'mpeg4',
    '-q:v',
    '4',
    '-c:a',
    'aac',
    '-b:a',
    '48k',
    '-shortest',
  ]);
}

/** Polls `check` every 250 ms until it resolves truthy; rejects with `message` after `timeoutMs`. */
async function poll(check, message, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export function streamServerFixtures({ rootDir = process.cwd() } = {}) {
  let server;
  let dataDir;
  let started;
  let growingServer;
  let growingDir;
  let growingStarted;
  let ladderServer;
  let ladderDir;
  let ladderStarted;

  /**
   * A server that makes one lower rendition after ready, with a video that has it and an English caption track
   * (not the default one): its /stream answer is a master playlist with two variants and a SUBTITLES group.
   */
  const startLadder = async () => {
    const mediaDir = path.join(rootDir, '.tmp/media');
    mkdirSync(mediaDir, { recursive: true });
    const width = (LADDER_SOURCE_HEIGHT * 16) / 9;
    const source = await makeCached(path.join(mediaDir, `ladder-${LADDER_SOURCE_HEIGHT}p.mp4`), [
      ...testSourceArgs(LADDER_SECONDS).map((arg) =>
        arg.startsWith('testsrc2=') ? arg.replace('320x180', `${width}x${LADDER_SOURCE_HEIGHT}`) : arg,
      ),
      '-movflags',
      '+faststart',
    ]);
    const { startServer } = await import('@notetaker/stream-server');
    mkdirSync(path.join(rootDir, '.tmp'), { recursive: true });
    ladderDir = mkdtempSync(path.join(rootDir, '.tmp/stream-server-ladder-'));
    ladderServer = await startServer({
      env: {
        DATA_DIR: ladderDir,
        HOST: '127.0.0.1',
        PORT: '0',
        RENDITIONS: String(LADDER_RUNG_HEIGHT),
        SEGMENT_SECONDS: '2',
        STREAM_RETRY_AFTER_SECONDS: '1',
        WORKER_POLL_MS: '100',
      },
      logger: 'silent',
    });
    const token = await ladderServer.mintUserToken(OWNER, 3 * 3600);
    const video = await ladderServer.importVideo(source, { ownerId: OWNER, title: 'ladder' });
    const client = createStreamClient({ baseUrl: ladderServer.url, token });
    await client.waitForStream(video.id, { timeout: 180_000 });
    const manage = createManagementClient({ baseUrl: ladderServer.url, apiKey: ladderServer.serviceApiKey });
    const caption = await manage.putCaption(video.id, 'en', LADDER_VTT);
    // The rung is a task after ready: wait until the master lists it beside the source rendition.
    await poll(
      async () => {
        const answer = await client.getStream(video.id);
        if (answer.status !== 'ready' || !answer.hls_url.includes('/master.m3u8')) return false;
        const master = await (await fetch(answer.hls_url)).text();
        return master.split('#EXT-X-STREAM-INF:').length - 1 === 2;
      },
      `the ${LADDER_RUNG_HEIGHT}p rendition`,
      180_000,
    );
    return {
      apiBase: ladderServer.url,
      token,
      videoId: video.id,
      heights: [LADDER_SOURCE_HEIGHT, LADDER_RUNG_HEIGHT],
      caption: { language: caption.language, label: caption.label, text: LADDER_CAPTION_TEXT },
    };
  };

  /** A server with the slow ffmpeg and long-lived URLs (a reload on expiry would hide what is being tested). */
  const startGrowing = async () => {
    const mediaDir = path.join(rootDir, '.tmp/media');
    mkdirSync(mediaDir, { recursive: true });
    const source = await makeMp4(path.join(mediaDir, `growing-${GROWING_SECONDS}.mp4`), GROWING_SECONDS);
    const { startServer } = await import('@notetaker/stream-server');
    growingDir = mkdtempSync(path.join(rootDir, '.tmp/stream-server-growing-'));
    growingServer = await startServer({
      env: {
        DATA_DIR: growingDir,
        HOST: '127.0.0.1',
        PORT: '0',
        FFMPEG_PATH: writeSlowFfmpeg(growingDir, GROWING_READ_RATE),
        PRESIGN_TTL_SECONDS: '3600',
        SEGMENT_SECONDS: '2',
        STREAM_RETRY_AFTER_SECONDS: '1',
        RENDITIONS: 'off',
      },
      logger: 'silent',
    });
    const token = await growingServer.mintUserToken(OWNER, 3 * 3600);
    return { server: growingServer, source, token };
  };

  /**
   * A never-viewed video on the growing-playlist server, one per request (each engine's run asks once), so every
   * engine sees its first /stream request start the generation.
   */
  const growingFixtures = async () => {
    const { server, source, token } = await growingStarted;
    const video = await server.importVideo(source, { ownerId: OWNER, title: 'growing' });
    return {
      apiBase: server.url,
      token,
      videoId: video.id,
      seconds: GROWING_SECONDS,
      readRate: GROWING_READ_RATE,
    };
  };

  const start = async () => {
    const mediaDir = path.join(rootDir, '.tmp/media');
    mkdirSync(mediaDir, { recursive: true });
    const [short, long, heavy] = await Promise.all([
      makeMp4(path.join(mediaDir, 'short.mp4'), 10),
      makeMp4(path.join(mediaDir, 'long.mp4'), 40),
      makeHeavyMp4(path.join(mediaDir, 'heavy-mpeg4.mp4')),
    ]);
    const corrupt = path.join(mediaDir, 'corrupt.mp4');
    writeFileSync(corrupt, randomBytes(64 * 1024));

    const { startServer } = await import('@notetaker/stream-server');
    mkdirSync(path.join(rootDir, '.tmp'), { recursive: true });
    dataDir = mkdtempSync(path.join(rootDir, '.tmp/stream-server-'));
    server = await startServer({
      env: {
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: '0',
        PRESIGN_TTL_SECONDS: String(PRESIGN_TTL_SECONDS),
        // Segment URLs must expire within seconds here (signed per 1-second window), to test recovery.
        PRESIGN_WINDOW_SECONDS: '1',
        SEGMENT_SECONDS: '2',
        STREAM_RETRY_AFTER_SECONDS: '1',
        // Lower qualities are the ladder server's business; here they would only encode in the background.
        RENDITIONS: 'off',
      },
      logger: 'silent',
    });
    const token = await server.mintUserToken(OWNER, 3 * 3600);
    const [ready, longVideo] = await Promise.all([
      server.importVideo(short, { ownerId: OWNER, title: 'ready' }),
      server.importVideo(long, { ownerId: OWNER, title: 'long' }),
    ]);
    const client = createStreamClient({ baseUrl: server.url, token });
    await client.waitForStream(ready.id, { timeout: 180_000 });
    await client.waitForStream(longVideo.id, { timeout: 180_000 });
    return {
      apiBase: server.url,
      token,
      presignTtlSeconds: PRESIGN_TTL_SECONDS,
      videos: { ready: ready.id, long: longVideo.id },
      shortMp4: short,
      sources: { heavy, corrupt },
    };
  };

  /**
   * The shared ready videos, plus a never-viewed and a corrupt one of this request's own (each engine's run asks
   * once): the tests change those two (generate, fix and retry), and every engine must find them untouched.
   */
  const fixturesForRun = async () => {
    const { sources, ...fixtures } = await started;
    const [fresh, corruptVideo] = await Promise.all([
      server.importVideo(sources.heavy, { ownerId: OWNER, title: 'never viewed' }),
      server.importVideo(sources.corrupt, { ownerId: OWNER, title: 'corrupt' }),
    ]);
    return { ...fixtures, videos: { ...fixtures.videos, fresh: fresh.id, corrupt: corruptVideo.id } };
  };

  return {
    name: 'stream-server-fixtures',
    serverStart() {
      started = start();
      started.catch(() => undefined);
    },
    async serverStop() {
      await started?.catch(() => undefined);
      await server?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      await growingStarted?.catch(() => undefined);
      await growingServer?.stop();
      if (growingDir) rmSync(growingDir, { recursive: true, force: true });
      await ladderStarted?.catch(() => undefined);
      await ladderServer?.stop();
      if (ladderDir) rmSync(ladderDir, { recursive: true, force: true });
    },
    async serve(context) {
      if (context.path === '/growing-fixtures.json') {
        growingStarted ??= startGrowing();
        return { body: JSON.stringify(await growingFixtures()), type: 'json' };
      }
      if (context.path === '/ladder-fixtures.json') {
        ladderStarted ??= startLadder();
        return { body: JSON.stringify(await ladderStarted), type: 'json' };
      }
      if (context.path !== '/fixtures.json') return undefined;
      return { body: JSON.stringify(await fixturesForRun()), type: 'json' };
    },
    async executeCommand({ command, payload }) {
      if (command !== 'replace-video-source') return undefined;
      // Replaces a video's source object in storage (e.g. a corrupt upload fixed by the owner).
      const fixtures = await started;
      const video = await server.registry.get(payload.id);
      await server.storage.putFile(video.source_key, fixtures.shortMp4, { contentType: 'video/mp4' });
      return true;
    },
  };
}
