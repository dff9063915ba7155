import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  LaunchPriority,
  type LaunchedProcess,
  type LaunchOptions,
  type ProcessLauncher,
} from './process-launcher.js';

export interface ProcessBudgetLimits {
  /** Media processes (ffmpeg and ffprobe) running at once, whatever they do (`MEDIA_MAX_PROCESSES`). */
  maxProcesses: number;
  /** Of those, encodes running at once: the heavy ones in CPU and memory (`MEDIA_MAX_TRANSCODES`). */
  maxTranscodes: number;
}

/** A launcher that never runs more than its limits allow; launches beyond them wait, first views first. */
export interface ProcessBudget extends ProcessLauncher {
  readonly limits: Readonly<ProcessBudgetLimits>;
  /** Processes running now. */
  readonly running: number;
  /** Encodes running now. */
  readonly runningTranscodes: number;
  /** Launches waiting for a free process. */
  readonly waiting: number;
  /** Whether a launch now would start at once (a free process and nobody waiting). */
  hasRoom(): boolean;
  /** Called each time a process ends (its place is free again). */
  onRelease(listener: () => void): () => void;
}

interface Pending {
  process: QueuedProcess;
  priority: LaunchPriority;
  transcode: boolean;
  order: number;
}

/**
 * A launched process that may wait for its turn: it has the shape of a started one at once (output streams,
 * `kill`), starts when the budget lets it, and when killed while still waiting never starts and closes with the
 * signal, as a process killed at once would.
 */
class QueuedProcess extends EventEmitter implements LaunchedProcess {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  private real: LaunchedProcess | undefined;
  private cancelled: NodeJS.Signals | undefined;

  constructor(private readonly cancel: () => void) {
    super();
  }

  get pid(): number | undefined {
    return this.real?.pid;
  }

  get exitCode(): number | null {
    return this.real ? this.real.exitCode : null;
  }

  get signalCode(): NodeJS.Signals | null {
    return this.real ? this.real.signalCode : (this.cancelled ?? null);
  }

  /** Before it has started, only a signal that ends a process does anything: it is then never started. */
  kill(signal: NodeJS.Signals): boolean {
    if (this.real) return this.real.kill(signal);
    if (this.cancelled || signal === 'SIGSTOP' || signal === 'SIGCONT') return false;
    this.cancelled = signal;
    this.cancel();
    this.stdout.end();
    this.stderr.end();
    setImmediate(() => this.emit('close', null, signal));
    return true;
  }

  /** Starts the real process; `done` is called once it has ended (or could not start). */
  start(real: LaunchedProcess, done: () => void): void {
    this.real = real;
    real.stdout.pipe(this.stdout);
    real.stderr.pipe(this.stderr);
    real.once('spawn', () => this.emit('spawn'));
    real.once('error', (error: Error) => {
      if (real.pid === undefined) done();
      this.emit('error', error);
    });
    real.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      done();
      // 'close' after the last output has been passed on, as a ChildProcess does.
      let open = 2;
      const closed = () => {
        open -= 1;
        if (open === 0) this.emit('close', code, signal);
      };
      for (const stream of [this.stdout, this.stderr]) {
        if (stream.writableFinished) closed();
        else stream.once('finish', closed);
      }
    });
  }
}

/**
 * Bounds the media processes of a worker: at most `maxProcesses` at once, of which at most `maxTranscodes`
 * encodes. A launch beyond the bound waits; waiting launches start in the order of their {@link LaunchPriority}
 * (a first view's before the rest of a generation's before work after `ready`), then first come first served.
 * Every process counts while it runs, whoever started it. See docs/decisions/0014-fair-first-views.md.
 *
 * @example
 * const budget = createProcessBudget(createProcessLauncher(), { maxProcesses: 16, maxTranscodes: 4 });
 * const child = budget.launch('ffmpeg', args, { priority: LaunchPriority.Background, transcode: true });
 */
export function createProcessBudget(inner: ProcessLauncher, limits: ProcessBudgetLimits): ProcessBudget {
  const max = Math.max(1, limits.maxProcesses);
  const maxTranscodes = Math.max(1, Math.min(max, limits.maxTranscodes));
  let running = 0;
  let runningTranscodes = 0;
  let order = 0;
  const queue: Pending[] = [];
  const listeners = new Set<() => void>();

  const fits = (transcode: boolean) => running < max && (!transcode || runningTranscodes < maxTranscodes);

  const begin = (
    pending: Pending,
    bin: string,
    args: readonly string[],
    options: LaunchOptions | undefined,
  ) => {
    running += 1;
    if (pending.transcode) runningTranscodes += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      running -= 1;
      if (pending.transcode) runningTranscodes -= 1;
      startWaiting();
      for (const listener of [...listeners]) listener();
    };
    let real: LaunchedProcess;
    try {
      real = inner.launch(bin, args, options);
    } catch (error) {
      release();
      throw error;
    }
    pending.process.start(real, release);
  };

  const launches = new WeakMap<QueuedProcess, () => void>();
  /** Starts waiting launches, best first, while they fit (an encode that does not fit lets lighter ones pass). */
  const startWaiting = () => {
    queue.sort((a, b) => a.priority - b.priority || a.order - b.order);
    for (let i = 0; i < queue.length && running < max;) {
      const pending = queue[i] as Pending;
      if (!fits(pending.transcode)) {
        i += 1;
        continue;
      }
      queue.splice(i, 1);
      launches.get(pending.process)?.();
    }
  };

  return {
    limits: { maxProcesses: max, maxTranscodes },
    get running() {
      return running;
    },
    get runningTranscodes() {
      return runningTranscodes;
    },
    get waiting() {
      return queue.length;
    },
    hasRoom: () => queue.length === 0 && running < max,
    onRelease(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    launch(bin, args, options) {
      const pending: Pending = {
        process: new QueuedProcess(() => {
          const at = queue.indexOf(pending);
          if (at >= 0) queue.splice(at, 1);
        }),
        priority: options?.priority ?? LaunchPriority.FirstView,
        transcode: options?.transcode === true,
        order: order++,
      };
      const startNow = () => {
        try {
          begin(pending, bin, args, options);
        } catch (error) {
          setImmediate(() => pending.process.emit('error', error));
        }
      };
      launches.set(pending.process, startNow);
      if (queue.length === 0 && fits(pending.transcode)) startNow();
      else {
        queue.push(pending);
        startWaiting();
      }
      return pending.process;
    },
  };
}
