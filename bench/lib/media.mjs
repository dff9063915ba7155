// Benchmark media, made with ffmpeg from generated test patterns and kept in a cache folder between runs.
import { execFile } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Bump when the recipes below change, so cached files are made again. */
const RECIPE_VERSION = 1;

async function exists(file) {
  return stat(file).then(
    (s) => s.isFile() && s.size > 0,
    () => false,
  );
}

async function ffmpeg(ffmpegPath, args) {
  await run(ffmpegPath, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** Runs `make(tmp)` unless `file` exists; writes to a temp name first so an interrupted run leaves nothing half made. */
async function cached(file, make) {
  if (await exists(file)) return file;
  const tmp = `${file}.part${file.slice(file.lastIndexOf('.'))}`;
  await make(tmp);
  await rename(tmp, file);
  return file;
}

const lavfi = (size, seconds) => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${size}:rate=30:duration=${seconds}`,
  '-f',
  'lavfi',
  '-i',
  `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
];

/**
 * Makes (or reuses) the benchmark's inputs:
 * - `clip`: 10 s 1280x720 30 fps H.264 (2.5 Mbit/s, keyframe every 2 s) + AAC 128k, faststart MP4;
 * - `min1` / `min60`: that clip looped to 60 s / 3600 s with `-stream_loop` and `-c copy` (the 60-minute file is
 *   ~1.2 GB, like a real 720p recording);
 * - `vp9`: 120 s 1280x720 VP9 (2 Mbit/s, keyframe every 10 s) + Opus WebM, which the server must transcode.
 */
export async function prepareMedia({ dir, ffmpegPath, log }) {
  const root = join(dir, `v${RECIPE_VERSION}`);
  await mkdir(root, { recursive: true });
  const started = Date.now();

  const clip = await cached(join(root, 'clip-720p-10s.mp4'), (out) =>
    ffmpeg(ffmpegPath, [
      ...lavfi('1280x720', 10),
      ...[
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-b:v',
        '2500k',
        '-maxrate',
        '2500k',
        '-bufsize',
        '5000k',
      ],
      ...['-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'],
      ...['-c:a', 'aac', '-b:a', '128k', '-ac', '2'],
      ...['-shortest', '-movflags', '+faststart', out],
    ]),
  );
  const loop = (seconds, out) =>
    ffmpeg(ffmpegPath, [
      '-stream_loop',
      '-1',
      '-i',
      clip,
      '-t',
      String(seconds),
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      out,
    ]);
  const min1 = await cached(join(root, 'h264-aac-720p-1min.mp4'), (out) => loop(60, out));
  const min60 = await cached(join(root, 'h264-aac-720p-60min.mp4'), (out) => loop(3600, out));

  const vp9Clip = await cached(join(root, 'clip-720p-10s.webm'), (out) =>
    ffmpeg(ffmpegPath, [
      ...lavfi('1280x720', 10),
      ...[
        '-c:v',
        'libvpx-vp9',
        '-deadline',
        'realtime',
        '-cpu-used',
        '8',
        '-row-mt',
        '1',
        '-b:v',
        '2000k',
        '-g',
        '300',
      ],
      ...['-c:a', 'libopus', '-b:a', '96k', '-ac', '2'],
      ...['-shortest', '-f', 'webm', out],
    ]),
  );
  const vp9 = await cached(join(root, 'vp9-opus-720p-2min.webm'), (out) =>
    ffmpeg(ffmpegPath, ['-stream_loop', '-1', '-i', vp9Clip, '-t', '120', '-c', 'copy', '-f', 'webm', out]),
  );

  const sizes = {};
  for (const [name, file] of Object.entries({ clip, min1, min60, vp9 }))
    sizes[name] = (await stat(file)).size;
  log(`media ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${root})`);
  return { clip, min1, min60, vp9, sizes };
}
