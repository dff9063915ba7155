import { mkdtemp, rm } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directLauncher } from '../../src/media/process-launcher.js';
import { describeFfmpegFailure, MediaMessage } from '../../src/media/ffmpeg-failure.js';
import {
  createProgressParser,
  BACKGROUND_NICENESS,
  formatCommand,
  runFfmpeg,
  startFfmpeg,
  STDERR_TAIL_LINES,
} from '../../src/media/run-ffmpeg.js';
import { FFMPEG_PATH, makeTestMedia, failureOf } from '../helpers/media.js';
import { isRunning, SLOW_FFMPEG_ARGS } from '../helpers/processes.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'run-ffmpeg-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runFfmpeg', () => {
  it('reports the output time from -progress and resolves on exit 0', async () => {
    const times: number[] = [];
    const result = await runFfmpeg({
      launcher: directLauncher,
      bin: FFMPEG_PATH,
      args: [
        '-hide_banner',
        '-nostdin',
        '-progress',
        'pipe:1',
        '-nostats',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=size=160x120:rate=10:duration=3',
        '-f',
        'null',
        '-',
      ],
      timeoutMs: 30_000,
      onProgress: (seconds) => times.push(seconds),
    });
    expect(times.at(-1)).toBeCloseTo(3, 0);
    expect(result.command).toContain(FFMPEG_PATH);
  });

  it('kills ffmpeg at the wall-clock timeout and leaves no process behind', async () => {
    const ffmpeg = startFfmpeg({
      launcher: directLauncher,
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 1_000,
    });
    expect(ffmpeg.pid).toBeTypeOf('number');
    const error = await failureOf(ffmpeg.result);
    expect(error).toMatchObject({ code: 'timeout', permanent: false });
    expect(error.message).toMatch(/took longer than 1 seconds/);
    expect(isRunning(ffmpeg.pid as number)).toBe(false);
  });

  it('runs ffmpeg below the service in CPU priority when asked', async () => {
    const controller = new AbortController();
    const ffmpeg = startFfmpeg({
      launcher: directLauncher,
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 30_000,
      signal: controller.signal,
      niceness: BACKGROUND_NICENESS,
    });
    try {
      expect(getPriority(ffmpeg.pid as number)).toBe(Math.min(19, getPriority() + BACKGROUND_NICENESS));
    } finally {
      controller.abort();
      await ffmpeg.result.catch(() => undefined);
    }
  });

  it('kills ffmpeg when the signal aborts and leaves no process behind', async () => {
    const controller = new AbortController();
    const ffmpeg = startFfmpeg({
      launcher: directLauncher,
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 60_000,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    const error = await failureOf(ffmpeg.result);
    expect(error).toMatchObject({ code: 'aborted', permanent: false });
    expect(isRunning(ffmpeg.pid as number)).toBe(false);
  });

  it('does not start at all when the signal is already aborted', async () => {
    const ffmpeg = startFfmpeg({
      launcher: directLauncher,
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 60_000,
      signal: AbortSignal.abort(),
    });
    expect(ffmpeg.pid).toBeUndefined();
    expect(await failureOf(ffmpeg.result)).toMatchObject({ code: 'aborted' });
  });

  it('kills a paused ffmpeg too', async () => {
    const controller = new AbortController();
    const ffmpeg = startFfmpeg({
      launcher: directLauncher,
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    expect(ffmpeg.pause()).toBe(true);
    controller.abort();
    expect(await failureOf(ffmpeg.result)).toMatchObject({ code: 'aborted' });
    expect(isRunning(ffmpeg.pid as number)).toBe(false);
    expect(ffmpeg.resume()).toBe(false);
  });

  it('turns a non-zero exit on unreadable input into a readable, permanent error with the stderr tail', async () => {
    const input = await makeTestMedia(dir, 'random-bytes');
    const error = await failureOf(
      runFfmpeg({
        launcher: directLauncher,
        bin: FFMPEG_PATH,
        args: ['-hide_banner', '-f', 'mp4', '-i', input, '-f', 'null', '-'],
        timeoutMs: 30_000,
      }),
    );
    expect(error).toMatchObject({ code: 'ffmpeg_failed', permanent: true, message: MediaMessage.NotAVideo });
    expect(error.details.stderrTail).toMatch(/Invalid data found when processing input/);
    expect(error.details.command).toContain(input);
  });

  it('keeps only the last stderr lines', async () => {
    // Node stands in for a chatty ffmpeg: 100 stderr lines, then exit 1.
    const script = "for (let i = 1; i <= 100; i++) console.error('line ' + i); process.exit(1)";
    const error = await failureOf(
      runFfmpeg({ launcher: directLauncher, bin: process.execPath, args: ['-e', script], timeoutMs: 30_000 }),
    );
    const lines = error.details.stderrTail?.split('\n') ?? [];
    expect(lines).toHaveLength(STDERR_TAIL_LINES);
    expect(lines[0]).toBe(`line ${101 - STDERR_TAIL_LINES}`);
    expect(lines.at(-1)).toBe('line 100');
  });

  it('fails transiently when the executable is missing', async () => {
    const error = await failureOf(
      runFfmpeg({ launcher: directLauncher, bin: join(dir, 'no-ffmpeg-here'), args: [], timeoutMs: 5_000 }),
    );
    expect(error).toMatchObject({ code: 'ffmpeg_failed', permanent: false });
  });
});

describe('createProgressParser', () => {
  it('emits out_time_us at each progress line and ignores N/A', () => {
    const seen: number[] = [];
    const parse = createProgressParser((seconds) => seen.push(seconds));
    for (const line of [
      'frame=1',
      'out_time_us=N/A',
      'progress=continue',
      'out_time_us=2500000',
      'out_time=00:00:02.500000',
      'progress=continue',
      'out_time=00:01:03.250000',
      'progress=end',
    ]) {
      parse(line);
    }
    expect(seen).toEqual([2.5, 63.25]);
  });
});

describe('describeFfmpegFailure', () => {
  it.each([
    [
      'http://s/x?…: Server returned 404 Not Found',
      'probe',
      'invalid_input',
      true,
      MediaMessage.SourceNotFound,
    ],
    ['http://s/x?…: Server returned 403 Forbidden', 'convert', 'storage', true, MediaMessage.SourceDenied],
    [
      'Connection to tcp://s:443 failed: Connection refused',
      'probe',
      'storage',
      false,
      MediaMessage.SourceUnreachable,
    ],
    [
      'http://s/x: Server returned 5XX Server Error reply',
      'convert',
      'storage',
      false,
      MediaMessage.SourceUnreachable,
    ],
    [
      'x.mp4: Invalid data found when processing input',
      'probe',
      'invalid_input',
      true,
      MediaMessage.NotAVideo,
    ],
    [
      'x.mp4: Invalid data found when processing input',
      'convert',
      'ffmpeg_failed',
      true,
      MediaMessage.NotAVideo,
    ],
    ['x.mp4: corrupt input packet in stream 0', 'convert', 'incomplete', true, MediaMessage.Damaged],
    ['segment3.ts: No space left on device', 'convert', 'ffmpeg_failed', false, MediaMessage.NoDiskSpace],
    ['Something nobody expected', 'convert', 'ffmpeg_failed', true, MediaMessage.ConversionFailed],
  ] as const)('%s (%s) → %s', (stderr, phase, code, permanent, message) => {
    expect(describeFfmpegFailure(stderr, phase)).toEqual({ code, permanent, message });
  });
});

describe('formatCommand', () => {
  it('quotes arguments and hides URL query strings (presigned signatures)', () => {
    expect(formatCommand('ffmpeg', ['-i', 'https://b.example/v.mp4?X-Amz-Signature=secret', 'a b'])).toBe(
      "ffmpeg -i 'https://b.example/v.mp4?…' 'a b'",
    );
  });
});
