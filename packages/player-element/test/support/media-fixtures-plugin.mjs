// Makes a small HLS stream with ffmpeg (once) and serves it as /.tmp/fixtures/vod/playlist.m3u8.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ffmpegPath = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';

export function runFfmpeg(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}

/** `seconds` of 320×180 test pattern with a sine tone, H.264/AAC. */
export function testSourceArgs(seconds) {
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x180:rate=25:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-g',
    '25',
    '-keyint_min',
    '25',
    '-sc_threshold',
    '0',
    '-c:a',
    'aac',
    '-b:a',
    '48k',
    '-shortest',
  ];
}

export async function makeVodFixture(dir, seconds = 8) {
  if (existsSync(path.join(dir, 'playlist.m3u8'))) return;
  mkdirSync(dir, { recursive: true });
  await runFfmpeg([
    ...testSourceArgs(seconds),
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_playlist_type',
    'vod',
    '-hls_segment_filename',
    path.join(dir, 'segment%d.ts'),
    path.join(dir, 'playlist.m3u8'),
  ]);
}

export function mediaFixtures({ rootDir = process.cwd() } = {}) {
  return {
    name: 'media-fixtures',
    async serverStart() {
      await makeVodFixture(path.join(rootDir, '.tmp/fixtures/vod'));
    },
  };
}

/**
 * Serves the VOD fixture under /flaky/<key>/<mode>/playlist with segments misbehaving: mode `all` answers every
 * segment after the first 500 (an outage), `forbidden` answers segment1 403, a number N answers segment1 500 to its
 * first N requests. URLs have no extension so that
 * the test runner does not mark the answers (failures included) as cacheable for a year.
 */
export function flakyHlsMiddleware({ rootDir = process.cwd() } = {}) {
  const failures = new Map();
  return async (ctx, next) => {
    const match = /^\/flaky\/([\w-]+)\/(\w+)\/(playlist|segment\d+)$/.exec(ctx.path);
    if (!match) return next();
    const [, key, mode, name] = match;
    ctx.set('cache-control', 'no-store');
    if (name === 'playlist') {
      const playlist = readFileSync(path.join(rootDir, '.tmp/fixtures/vod/playlist.m3u8'), 'utf8');
      ctx.type = 'application/vnd.apple.mpegurl';
      ctx.body = playlist.replace(/\.ts$/gm, '');
      return;
    }
    if (mode === 'all' && name !== 'segment0') {
      ctx.status = 500;
      return;
    }
    if (name === 'segment1') {
      const count = (failures.get(key) ?? 0) + 1;
      failures.set(key, count);
      if (mode === 'forbidden') {
        ctx.status = 403;
        return;
      }
      if (/^\d+$/.test(mode) && count <= Number(mode)) {
        ctx.status = 500;
        return;
      }
    }
    ctx.type = 'video/mp2t';
    ctx.body = readFileSync(path.join(rootDir, '.tmp/fixtures/vod', `${name}.ts`));
  };
}
