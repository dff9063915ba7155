// Makes a small HLS stream with ffmpeg (once) and serves it as /.tmp/fixtures/vod/playlist.m3u8.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
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
    '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=25:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    '-g', '25', '-keyint_min', '25', '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '48k', '-shortest',
  ];
}

export async function makeVodFixture(dir, seconds = 8) {
  if (existsSync(path.join(dir, 'playlist.m3u8'))) return;
  mkdirSync(dir, { recursive: true });
  await runFfmpeg([
    ...testSourceArgs(seconds),
    '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod',
    '-hls_segment_filename', path.join(dir, 'segment%d.ts'),
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
