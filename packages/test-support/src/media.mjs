// Test media made with the system ffmpeg (or `FFMPEG_PATH`): a short H.264/AAC test pattern, WebVTT text and a
// storyboard sprite. Fixture folders are made under a temporary name and renamed, so an interrupted run never leaves a
// half-made one behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The system ffmpeg, or `FFMPEG_PATH`. */
export const FFMPEG_PATH = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';

/** Runs ffmpeg quietly (`-y`, errors only); rejects with the end of its stderr when it fails. */
export function runFfmpeg(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(FFMPEG_PATH, ['-hide_banner', '-loglevel', 'error', '-y', ...args], {
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

/** `seconds` of 320×180 test pattern with a sine tone, H.264/AAC, a keyframe every second (add the output). */
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

/** Builds `dir` with `make(partialDir)` under a temporary name and renames it; does nothing when `dir` exists. */
export async function makeFixtureFolder(dir, make) {
  if (existsSync(dir)) return;
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  await make(partial);
  renameSync(partial, dir);
}

const clock = (seconds) => `00:${String(seconds).padStart(2, '0')}.000`;

/** A WebVTT file of `[startSeconds, endSeconds, text]` cues (under a minute). */
export function webVtt(cues) {
  return `WEBVTT\n\n${cues.map(([start, end, text]) => `${clock(start)} --> ${clock(end)}\n${text}\n`).join('\n')}`;
}

/** A storyboard of a `seconds`-long test pattern made by ffmpeg (`fps=1/2,scale=160:-1,tile=5x5`) and a VTT into it. */
export function makeStoryboardFixture(dir, seconds = 8) {
  return makeFixtureFolder(dir, async (out) => {
    await runFfmpeg([
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=320x180:rate=25:duration=${seconds}`,
      '-vf',
      'fps=1/2,scale=160:-1,tile=5x5',
      '-frames:v',
      '1',
      path.join(out, 'sprite.jpg'),
    ]);
    const cues = [];
    for (let i = 0; i * 2 < seconds; i++) {
      cues.push([i * 2, i * 2 + 2, `sprite.jpg#xywh=${(i % 5) * 160},${Math.floor(i / 5) * 90},160,90`]);
    }
    writeFileSync(path.join(out, 'storyboard.vtt'), webVtt(cues));
  });
}
