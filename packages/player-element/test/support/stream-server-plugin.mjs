// Starts a real @notetaker/stream-server (embedded defaults: PGlite + local storage) for the browser tests, feeds it
// media that ffmpeg makes, and hands ids, token and URL to the browser as /fixtures.json.
// The server starts with the test runner but is awaited only by tests that fetch /fixtures.json.
// A second server, started on the first request to /growing-fixtures.json, reads its sources at 2× real time (an
// ffmpeg wrapper adding `-readrate 2` before `-i`), so that tests see a playlist still growing while they play it.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createStreamClient } from '@notetaker/client-sdk';
import { runFfmpeg, testSourceArgs } from './media-fixtures-plugin.mjs';

/** Lifetime of playback tokens and presigned segment URLs: short, so that tests can see them expire. */
export const PRESIGN_TTL_SECONDS = 4;
const OWNER = 'player-element-tests';
const ffmpegPath = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
/** Length of the video the growing-playlist server generates slowly. */
const GROWING_SECONDS = 30;
/** How much faster than real time that server reads its sources. */
const GROWING_READ_RATE = 2;

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

export function streamServerFixtures({ rootDir = process.cwd() } = {}) {
  let server;
  let dataDir;
  let started;
  let growingServer;
  let growingDir;
  let growingStarted;

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
      },
      logger: 'silent',
    });
    const token = await growingServer.mintUserToken(OWNER, 3 * 3600);
    // Never viewed: the first /stream request starts its generation.
    const video = await growingServer.importVideo(source, { ownerId: OWNER, title: 'growing' });
    return {
      apiBase: growingServer.url,
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
        SEGMENT_SECONDS: '2',
        STREAM_RETRY_AFTER_SECONDS: '1',
      },
      logger: 'silent',
    });
    const token = await server.mintUserToken(OWNER, 3 * 3600);
    const [ready, longVideo, fresh, corruptVideo] = await Promise.all([
      server.importVideo(short, { ownerId: OWNER, title: 'ready' }),
      server.importVideo(long, { ownerId: OWNER, title: 'long' }),
      server.importVideo(heavy, { ownerId: OWNER, title: 'never viewed' }),
      server.importVideo(corrupt, { ownerId: OWNER, title: 'corrupt' }),
    ]);
    const client = createStreamClient({ baseUrl: server.url, token });
    await client.waitForStream(ready.id, { timeout: 180_000 });
    await client.waitForStream(longVideo.id, { timeout: 180_000 });
    return {
      apiBase: server.url,
      token,
      presignTtlSeconds: PRESIGN_TTL_SECONDS,
      videos: { ready: ready.id, long: longVideo.id, fresh: fresh.id, corrupt: corruptVideo.id },
      shortMp4: short,
    };
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
    },
    async serve(context) {
      if (context.path === '/growing-fixtures.json') {
        growingStarted ??= startGrowing();
        return { body: JSON.stringify(await growingStarted), type: 'json' };
      }
      if (context.path !== '/fixtures.json') return undefined;
      const fixtures = await started;
      return { body: JSON.stringify(fixtures), type: 'json' };
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
