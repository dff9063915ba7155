import { describe, expect, it } from 'vitest';
import { createProcessBudget } from '../../src/media/process-budget.js';
import { directLauncher, LaunchPriority, type LaunchedProcess } from '../../src/media/process-launcher.js';
import { startMediaProcess } from '../../src/media/run-ffmpeg.js';
import { failureOf } from '../helpers/media.js';
import { waitFor } from '../helpers/processes.js';

/** A process that runs until it is sent SIGTERM, printing its name first. */
const SLEEPER = ['-e', 'process.stdout.write(process.argv[1]); setInterval(() => {}, 1000);'];

function closed(child: LaunchedProcess): Promise<void> {
  return new Promise((resolve) => child.once('close', () => resolve()));
}

describe('createProcessBudget', () => {
  it('never runs more than its bound and starts waiting launches by priority, then in order', async () => {
    const budget = createProcessBudget(directLauncher, { maxProcesses: 2, maxTranscodes: 2 });
    const started: string[] = [];
    const launch = (name: string, priority: LaunchPriority) => {
      const child = budget.launch(process.execPath, [...SLEEPER, name], { priority });
      child.stdout.on('data', () => started.push(name));
      return child;
    };
    const a = launch('a', LaunchPriority.Background);
    const b = launch('b', LaunchPriority.Generation);
    const c = launch('c', LaunchPriority.Background);
    const d = launch('d', LaunchPriority.Generation);
    const e = launch('e', LaunchPriority.FirstView);
    expect(budget.running).toBe(2);
    expect(budget.waiting).toBe(3);
    expect(budget.hasRoom()).toBe(false);
    await waitFor('a and b', async () => (started.length === 2 ? true : undefined));
    expect(c.pid).toBeUndefined();

    expect(started.slice().sort()).toEqual(['a', 'b']);

    // A place frees up: the first view goes first, then the rest of a generation, work after `ready` last.
    a.kill('SIGTERM');
    await closed(a);
    expect(e.pid).toBeTypeOf('number');
    expect([c.pid, d.pid]).toEqual([undefined, undefined]);
    b.kill('SIGTERM');
    await closed(b);
    expect(d.pid).toBeTypeOf('number');
    expect(c.pid).toBeUndefined();
    expect(budget.running).toBe(2);
    e.kill('SIGTERM');
    await closed(e);
    expect(c.pid).toBeTypeOf('number');
    for (const child of [d, c]) {
      child.kill('SIGTERM');
      await closed(child);
    }
    expect(budget.running).toBe(0);
    expect(budget.hasRoom()).toBe(true);
  });

  it('holds encodes to their own bound while lighter launches pass them', async () => {
    const budget = createProcessBudget(directLauncher, { maxProcesses: 3, maxTranscodes: 1 });
    const encode1 = budget.launch(process.execPath, [...SLEEPER, 'x'], { transcode: true });
    const encode2 = budget.launch(process.execPath, [...SLEEPER, 'y'], { transcode: true });
    const probe = budget.launch(process.execPath, [...SLEEPER, 'p'], { priority: LaunchPriority.Background });
    expect(budget.runningTranscodes).toBe(1);
    expect(budget.running).toBe(2); // the probe passed the waiting encode
    await waitFor('the probe', async () => probe.pid);
    expect(encode2.pid).toBeUndefined();
    encode1.kill('SIGTERM');
    await closed(encode1);
    await waitFor('the second encode', async () => encode2.pid);
    expect(budget.runningTranscodes).toBe(1);
    for (const child of [encode2, probe]) {
      child.kill('SIGTERM');
      await closed(child);
    }
  });

  it('never starts a launch killed while it waits, and reports it as aborted', async () => {
    const budget = createProcessBudget(directLauncher, { maxProcesses: 1, maxTranscodes: 1 });
    const first = budget.launch(process.execPath, [...SLEEPER, 'first']);
    const controller = new AbortController();
    const waiting = startMediaProcess({
      bin: process.execPath,
      args: [...SLEEPER, 'never'],
      timeoutMs: 30_000,
      signal: controller.signal,
      launcher: budget,
    });
    expect(budget.waiting).toBe(1);
    controller.abort();
    expect((await failureOf(waiting.result)).code).toBe('aborted');
    expect(waiting.pid).toBeUndefined();
    expect(budget.waiting).toBe(0);
    first.kill('SIGTERM');
    await closed(first);
    expect(budget.running).toBe(0);
  });

  it('passes output and the exit code of a process that had to wait', async () => {
    const budget = createProcessBudget(directLauncher, { maxProcesses: 1, maxTranscodes: 1 });
    const first = budget.launch(process.execPath, [...SLEEPER, 'first']);
    const run = startMediaProcess({
      bin: process.execPath,
      args: ['-e', 'console.log("hello"); process.exit(0)'],
      timeoutMs: 30_000,
      collectStdout: true,
      launcher: budget,
    });
    first.kill('SIGTERM');
    expect((await run.result).stdout.trim()).toBe('hello');
    expect(budget.running).toBe(0);
  });
});
