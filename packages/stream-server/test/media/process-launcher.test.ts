import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createProcessLauncher,
  directLauncher,
  type HelperLauncher,
} from '../../src/media/process-launcher.js';
import { BACKGROUND_NICENESS, startFfmpeg, startMediaProcess } from '../../src/media/run-ffmpeg.js';
import { FFMPEG_PATH, FFPROBE_PATH, failureOf } from '../helpers/media.js';
import { isRunning, procStat, SLOW_FFMPEG_ARGS, waitFor } from '../helpers/processes.js';

const launchers: HelperLauncher[] = [];
function newLauncher(): HelperLauncher {
  const launcher = createProcessLauncher();
  launchers.push(launcher);
  return launcher;
}
afterEach(async () => {
  await Promise.all(launchers.splice(0).map((launcher) => launcher.close()));
});

describe('process launcher helper', () => {
  it('runs a process from the helper, not from this process, with its output and exit code', async () => {
    const launcher = newLauncher();
    const controller = new AbortController();
    const slow = startMediaProcess({
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 60_000,
      signal: controller.signal,
      launcher,
    });
    const pid = await waitFor('the process to start', async () => slow.pid);
    expect(procStat(pid)?.[1]).toBe(String(launcher.helperPid));
    expect(launcher.helperPid).not.toBe(process.pid);
    controller.abort();
    await slow.result.catch(() => undefined);

    const run = startMediaProcess({
      bin: FFPROBE_PATH,
      args: ['-hide_banner', '-version'],
      timeoutMs: 20_000,
      collectStdout: true,
      launcher,
    });
    const result = await run.result;
    expect(result.stdout).toMatch(/^ffprobe version/);
  });

  it('passes progress lines, the stderr tail and a failing exit through as a direct spawn does', async () => {
    const launcher = newLauncher();
    const times: number[] = [];
    await startFfmpeg({
      bin: FFMPEG_PATH,
      args: [
        ...['-hide_banner', '-nostdin', '-progress', 'pipe:1', '-nostats', '-f', 'lavfi'],
        ...['-i', 'testsrc2=size=160x120:rate=10:duration=2', '-f', 'null', '-'],
      ],
      timeoutMs: 30_000,
      onProgress: (seconds) => times.push(seconds),
      ...{ launcher },
    }).result;
    expect(times.at(-1)).toBeCloseTo(2, 0);

    const failed = await failureOf(
      startMediaProcess({
        bin: FFMPEG_PATH,
        args: ['-i', '/nonexistent/input.mp4'],
        timeoutMs: 20_000,
        launcher,
      }).result,
    );
    expect(failed.code).not.toBe('aborted');
    expect(failed.details.stderrTail).toContain('/nonexistent/input.mp4');
  });

  it('reports an executable that cannot be started as a failed start', async () => {
    const launcher = newLauncher();
    const run = startMediaProcess({ bin: '/nonexistent/ffmpeg', args: [], timeoutMs: 20_000, launcher });
    const error = await failureOf(run.result);
    expect(error).toMatchObject({ code: 'ffmpeg_failed', permanent: false });
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(run.pid).toBeUndefined();
  });

  it('applies niceness, pauses and resumes, and kills at the timeout', async () => {
    const launcher = newLauncher();
    const run = startMediaProcess({
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 3_000,
      niceness: BACKGROUND_NICENESS,
      launcher,
    });
    const pid = await waitFor('the process to start', async () => run.pid);
    expect(getPriority(pid)).toBe(Math.min(19, getPriority() + BACKGROUND_NICENESS));
    expect(run.pause()).toBe(true);
    await waitFor('the process to stop', async () => (procStat(pid)?.[0] === 'T' ? true : undefined));
    expect(run.resume()).toBe(true);
    await waitFor('the process to continue', async () => (procStat(pid)?.[0] !== 'T' ? true : undefined));
    const error = await failureOf(run.result);
    expect(error.code).toBe('timeout');
    expect(isRunning(pid)).toBe(false);
    expect(run.pause()).toBe(false);
  });

  it('kills the process when the signal aborts', async () => {
    const launcher = newLauncher();
    const controller = new AbortController();
    const run = startFfmpeg({
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 60_000,
      signal: controller.signal,
      onProgress: () => controller.abort(),
      ...{ launcher },
    });
    const error = await failureOf(run.result);
    expect(error.code).toBe('aborted');
    expect(isRunning(run.pid as number)).toBe(false);
  });

  it('leaves nothing running when it is closed, and what ran is reported as interrupted', async () => {
    const launcher = newLauncher();
    const run = startMediaProcess({ bin: FFMPEG_PATH, args: SLOW_FFMPEG_ARGS, timeoutMs: 60_000, launcher });
    const pid = await waitFor('the process to start', async () => run.pid);
    const helperPid = launcher.helperPid as number;
    await launcher.close();
    const error = await failureOf(run.result);
    expect(error).toMatchObject({ code: 'ffmpeg_failed', permanent: false });
    await waitFor('the process to exit', async () => (isRunning(pid) ? undefined : true));
    expect(isRunning(helperPid)).toBe(false);
    expect(launcher.helperPid).toBeUndefined();
  });

  it('starts a new helper after the old one died; what the old one ran is stopped and reported as interrupted', async () => {
    const launcher = newLauncher();
    const run = startMediaProcess({ bin: FFMPEG_PATH, args: SLOW_FFMPEG_ARGS, timeoutMs: 60_000, launcher });
    const pid = await waitFor('the process to start', async () => run.pid);
    const first = launcher.helperPid as number;
    process.kill(first, 'SIGKILL');
    const error = await failureOf(run.result);
    expect(error.message).toMatch(/interrupted/i);
    await waitFor('the orphaned process to be killed', async () => (isRunning(pid) ? undefined : true));

    const next = startMediaProcess({
      bin: FFPROBE_PATH,
      args: ['-version'],
      timeoutMs: 20_000,
      collectStdout: true,
      launcher,
    });
    expect((await next.result).stdout).toMatch(/^ffprobe version/);
    expect(launcher.helperPid).toBeTypeOf('number');
    expect(launcher.helperPid).not.toBe(first);
  });

  it('stops what it ran when the service is killed outright (no orphaned ffmpeg)', async () => {
    // A stand-in for the service: it launches a slow ffmpeg through the helper, prints the pids, then waits.
    const moduleUrl = new URL('../../src/media/process-launcher.ts', import.meta.url).href;
    const program = `
      const { createProcessLauncher } = await import(${JSON.stringify(moduleUrl)});
      const launcher = createProcessLauncher();
      const child = launcher.launch(${JSON.stringify(FFMPEG_PATH)}, ${JSON.stringify(SLOW_FFMPEG_ARGS)});
      child.stdout.resume();
      child.stderr.resume();
      child.once('spawn', () => console.log(JSON.stringify({ helper: launcher.helperPid, ffmpeg: child.pid })));
      setInterval(() => {}, 1000);
    `;
    const service = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: service.stdout }).once('line', resolve);
      service.once('exit', (code) => reject(new Error(`the stand-in exited (${code})`)));
    });
    const pids = JSON.parse(line) as { helper: number; ffmpeg: number };
    expect(isRunning(pids.ffmpeg)).toBe(true);
    service.kill('SIGKILL');
    await waitFor('ffmpeg and the helper to exit', async () =>
      isRunning(pids.ffmpeg) || isRunning(pids.helper) ? undefined : true,
    );
  });
});

describe('prepare', () => {
  it('starts the helper before the first launch, once, and every later launch goes through that one helper', async () => {
    const launcher = newLauncher();
    expect(launcher.helperPid).toBeUndefined();
    launcher.prepare();
    const helperPid = await waitFor('the helper to start', async () => launcher.helperPid);
    launcher.prepare(); // a second prepare keeps the running helper
    expect(launcher.helperPid).toBe(helperPid);

    const controller = new AbortController();
    const run = startMediaProcess({
      bin: FFMPEG_PATH,
      args: SLOW_FFMPEG_ARGS,
      timeoutMs: 60_000,
      signal: controller.signal,
      launcher,
    });
    const pid = await waitFor('the process to start', async () => run.pid);
    expect(procStat(pid)?.[1]).toBe(String(helperPid));
    controller.abort();
    await run.result.catch(() => undefined);
    await launcher.close();
    expect(isRunning(helperPid)).toBe(false);
  });
});
