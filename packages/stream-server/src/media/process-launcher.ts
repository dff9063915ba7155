import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { getPriority, setPriority } from 'node:os';
import { PassThrough, type Readable } from 'node:stream';

/**
 * What {@link startMediaProcess} needs of a started ffmpeg/ffprobe: the subset of `ChildProcess` it uses. Emits
 * `'error'` (the executable could not be started; `pid` stays `undefined`, no `'close'` follows) or `'close'`
 * (`code`, `signal`) after all of stdout and stderr.
 *
 * [startMediaProcess]: ./run-ffmpeg.ts
 */
export interface LaunchedProcess extends EventEmitter {
  /** Known once the process has started (at once for a direct spawn, a moment later through the helper). */
  readonly pid?: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  /** Sends `signal`; false once the process has exited. */
  kill(signal: NodeJS.Signals): boolean;
}

/**
 * Who waits for a media process, in the order a process budget (`process-budget.ts`) starts queued launches:
 * a viewer waiting for the first segments of a video, then the rest of a generation, then work after `ready`.
 */
export const LaunchPriority = {
  FirstView: 0,
  Generation: 1,
  Background: 2,
} as const;
export type LaunchPriority = (typeof LaunchPriority)[keyof typeof LaunchPriority];

export interface LaunchOptions {
  /** Added to this process's nice value for the child; default 0. */
  niceness?: number | undefined;
  /** Order among launches waiting for a free process (a bounded launcher only); default `FirstView`. */
  priority?: LaunchPriority | undefined;
  /** An encode (x264): counted against a bounded launcher's transcode limit too. */
  transcode?: boolean | undefined;
}

/** Starts media processes; {@link directLauncher} or a {@link createProcessLauncher} helper. */
export interface ProcessLauncher {
  launch(bin: string, args: readonly string[], options?: LaunchOptions): LaunchedProcess;
}

function childPriority(niceness: number | undefined): number | undefined {
  return niceness ? Math.min(19, getPriority() + niceness) : undefined;
}

/** `child_process.spawn` from this process. Costs a fork of this process, which grows with its memory. */
export const directLauncher: ProcessLauncher = {
  launch(bin, args, options) {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const priority = childPriority(options?.niceness);
    if (priority !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, priority);
      } catch {
        // Not allowed here (or already exited): it simply runs at the service's priority.
      }
    }
    return child;
  },
};

/**
 * The helper's program, run with `node -e`: it spawns what it is asked to over its IPC channel and reports each
 * process's start, output and end back; when the channel closes (the service stopped or died), it SIGKILLs every
 * process it started and exits. Plain JavaScript, so that it runs the same from `src` under a test runner and from
 * `dist`.
 */
const HELPER_PROGRAM = `'use strict';
process.title = 'notetaker-stream-launcher';
const { spawn } = require('node:child_process');
const { setPriority } = require('node:os');
const children = new Map();
// A send that fails (the service has just gone) must not crash this process before it has killed its children.
const send = (message) => { if (process.connected) process.send(message, () => {}); };
const killAll = () => {
  for (const child of children.values()) {
    try { child.kill('SIGKILL'); } catch {}
  }
};
const errorShape = (error) => ({ message: String(error && error.message), code: error && error.code,
  errno: error && error.errno, syscall: error && error.syscall, path: error && error.path });
process.on('message', (message) => {
  const id = message.id;
  if (message.op === 'spawn') {
    let child;
    try {
      child = spawn(message.bin, message.args, { stdio: ['ignore', 'pipe', 'pipe'], env: message.env });
    } catch (error) {
      send({ id, ev: 'error', error: errorShape(error) });
      return;
    }
    if (child.pid === undefined) {
      child.once('error', (error) => send({ id, ev: 'error', error: errorShape(error) }));
      return;
    }
    children.set(id, child);
    if (message.priority !== undefined) {
      try { setPriority(child.pid, message.priority); } catch {}
    }
    send({ id, ev: 'spawn', pid: child.pid });
    child.stdout.setEncoding('utf8').on('data', (data) => send({ id, ev: 'out', fd: 1, data }));
    child.stderr.setEncoding('utf8').on('data', (data) => send({ id, ev: 'out', fd: 2, data }));
    child.on('error', () => {});
    child.once('close', (code, signal) => {
      children.delete(id);
      send({ id, ev: 'close', code, signal });
    });
  } else if (message.op === 'kill') {
    const child = children.get(id);
    if (child && child.exitCode === null && child.signalCode === null) {
      try { child.kill(message.signal); } catch {}
    }
  }
});
process.on('disconnect', () => {
  killAll();
  process.exit(0);
});
process.on('uncaughtException', () => {
  killAll();
  process.exit(1);
});
`;

type HelperMessage =
  | { id: number; ev: 'spawn'; pid: number }
  | { id: number; ev: 'out'; fd: 1 | 2; data: string }
  | { id: number; ev: 'close'; code: number | null; signal: NodeJS.Signals | null }
  | {
      id: number;
      ev: 'error';
      error: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
    };

class HelperProcess extends EventEmitter implements LaunchedProcess {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  settled = false;

  constructor(private readonly signal: (signal: NodeJS.Signals) => void) {
    super();
  }

  kill(signal: NodeJS.Signals): boolean {
    if (this.settled) return false;
    this.signal(signal);
    return true;
  }

  started(pid: number): void {
    this.pid = pid;
    this.emit('spawn');
  }

  failed(error: Error): void {
    this.settled = true;
    this.stdout.end();
    this.stderr.end();
    this.emit('error', error);
  }

  closed(code: number | null, signal: NodeJS.Signals | null): void {
    this.settled = true;
    this.exitCode = code;
    this.signalCode = signal;
    let open = 2;
    const done = () => {
      open -= 1;
      if (open === 0) this.emit('close', code, signal);
    };
    // 'close' after the last output has been read, as a ChildProcess does.
    for (const stream of [this.stdout, this.stderr]) {
      if (stream.readableEnded) done();
      else {
        stream.once('end', done);
        stream.end();
      }
    }
  }
}

export interface HelperLauncher extends ProcessLauncher {
  /** The helper's pid (`undefined` before the first start or after it has exited). */
  readonly helperPid: number | undefined;
  /** Starts the helper now (launches start it when needed): best while this process is still small. */
  prepare(): void;
  /** Ends the helper; it SIGKILLs whatever it still runs. Later launches start a new helper. */
  close(): Promise<void>;
}

/**
 * A launcher that starts media processes from a small long-lived helper process instead of this one.
 *
 * Spawning forks the spawning process, and a fork's cost grows with its memory: from the embedded server
 * (PGlite's heap makes it ~800 MB) each ffmpeg or ffprobe blocked every request for 15–45 ms, on a first view's
 * path. The helper is started while this process is still small and stays small; what it starts runs exactly as
 * a direct spawn would (same environment, niceness, signals, output, exit). If the helper dies, the processes it
 * ran are reported as interrupted (`close` with no code and no signal) and the next launch starts a new helper.
 *
 * @example
 * const launcher = createProcessLauncher();
 * const child = launcher.launch('ffprobe', ['-version']);
 * child.stdout.on('data', (chunk) => console.log(String(chunk)));
 * child.once('close', (code) => launcher.close());
 */
export function createProcessLauncher(): HelperLauncher {
  let helper: ChildProcess | undefined;
  let nextId = 1;
  const running = new Map<number, HelperProcess>();

  const refIfBusy = (child: ChildProcess) => {
    // An idle helper never keeps this process alive; a running ffmpeg does.
    const channel = child.channel as { ref(): void; unref(): void } | undefined;
    if (running.size > 0) channel?.ref();
    else channel?.unref();
  };

  const start = (): ChildProcess => {
    const child = spawn(process.execPath, ['-e', HELPER_PROGRAM], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // The helper is plain Node: none of this process's loaders, profilers or inspectors.
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.unref();
    child.on('message', (message: HelperMessage) => {
      const target = running.get(message.id);
      if (!target) return;
      switch (message.ev) {
        case 'spawn':
          target.started(message.pid);
          break;
        case 'out':
          (message.fd === 1 ? target.stdout : target.stderr).write(message.data);
          break;
        case 'error': {
          running.delete(message.id);
          const error = Object.assign(new Error(message.error.message), message.error);
          target.failed(error);
          break;
        }
        case 'close':
          running.delete(message.id);
          target.closed(message.code, message.signal);
          break;
      }
      refIfBusy(child);
    });
    const lost = () => {
      if (helper !== child) return;
      helper = undefined;
      // What it ran is reported as interrupted, and killed in case the helper could not (killed outright itself):
      // nothing it started outlives it.
      for (const [id, target] of running) {
        running.delete(id);
        if (target.pid === undefined) {
          target.failed(new Error('the process launcher exited'));
          continue;
        }
        try {
          process.kill(target.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        target.closed(null, null);
      }
    };
    child.once('exit', lost);
    child.once('error', lost);
    return child;
  };

  return {
    get helperPid() {
      return helper?.exitCode === null ? helper.pid : undefined;
    },

    prepare() {
      helper ??= start();
    },

    launch(bin, args, options) {
      helper ??= start();
      const channel = helper;
      const id = nextId++;
      const send = (message: object) => {
        if (channel.connected) channel.send(message);
      };
      const target = new HelperProcess((signal) => send({ op: 'kill', id, signal }));
      running.set(id, target);
      refIfBusy(channel);
      send({
        op: 'spawn',
        id,
        bin,
        args: [...args],
        env: process.env,
        priority: childPriority(options?.niceness),
      });
      if (!channel.connected)
        setImmediate(() => target.failed(new Error('the process launcher is not running')));
      return target;
    },

    async close() {
      const child = helper;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.ref(); // until it has exited, even when nothing else keeps this process running
      if (child.connected) child.disconnect();
      else child.kill('SIGKILL');
      await exited;
    },
  };
}
