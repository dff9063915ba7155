import type { Logger } from 'pino';

/** Time as the runner sees it; tests pass one they drive by hand. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Where a group of slots gets its work from: one leased table (see leased-queue.ts), e.g. the video tasks. */
export interface JobSource<Claim> {
  /** For logs, e.g. `'generation job'`. */
  what: string;
  /** How many jobs of this source run at once: separate slots, so one source never waits behind another. */
  slots: number;
  leaseSeconds: number;
  /**
   * Leases the next job to `leaseOwner`: the worker's id plus a number of its own for this one claim, so that two
   * claims of one job by the same worker (a slot taking it over after the lease ran out while another slot still
   * ran it) never pass for each other when they renew, complete or fail it.
   */
  claim(leaseOwner: string, leaseSeconds: number): Promise<Claim | undefined>;
  /** Extends the lease; `false` when the job is no longer ours (or no longer wanted): it is then aborted. */
  renew(claim: Claim, leaseSeconds: number): Promise<boolean>;
  /** Hands the job back at once, untouched, for another worker (on shutdown). */
  release(claim: Claim): Promise<unknown>;
  /** Which handler runs it (a key of the runner's handlers). */
  kindOf(claim: Claim): string;
  /**
   * Whether a slot may claim now (default: always). When not, the slot sleeps until woken (`notify`) or the next
   * poll: the job stays queued where every worker sees it, instead of waiting inside this one.
   */
  hasRoom?(): boolean;
}

export interface JobContext {
  /** Aborted on shutdown and when the lease is lost. */
  signal: AbortSignal;
  log: Logger;
}

/** One kind of job: how to run it and what a failed attempt means. */
export interface JobHandler<Claim> {
  /** Log fields naming the job. */
  describe(claim: Claim): Record<string, unknown>;
  /** Does the work; throws when the attempt failed. */
  run(claim: Claim, ctx: JobContext): Promise<void>;
  /** A failed attempt (not a shutdown, not a lost lease): retry later with backoff, or give up. */
  onFailure(claim: Claim, error: unknown, ctx: JobContext): Promise<void>;
  /** Logs a job stopped because its lease was lost (the default says so in general terms). */
  onLeaseLost?(claim: Claim, log: Logger): void;
  /** Logs a job interrupted by shutdown before it is handed back. */
  onShutdown?(claim: Claim, log: Logger): void;
}

// A runner holds sources and handlers of different claim types; each source's claims go to its own handlers only.
type AnySource = JobSource<any>;
type AnyHandler = JobHandler<any>;

export interface JobRunnerOptions {
  workerId: string;
  logger: Logger;
  /** How long an idle slot sleeps before it looks again (a `notify()` wakes it sooner). */
  pollMs: number;
  /** Sources by name, e.g. `{ generation, tasks, webhooks }`. */
  sources: Record<string, AnySource>;
  /** Handlers by job kind: `generation`, `thumbnails`, `rendition`, `webhook`. */
  handlers: Record<string, AnyHandler>;
  clock?: Clock;
  /**
   * Whether a failed claim means the database is out of reach (an outage, not a bug): such failures are logged
   * once when the outage starts and once when claims work again, with its duration, instead of on every poll.
   */
  isUnavailable?: (error: unknown) => boolean;
}

export interface JobRunner {
  readonly workerId: string;
  start(): void;
  /** Wakes idle slots (of one source, or all) so work queued by this process starts now rather than at the next poll. */
  notify(source?: string): void;
  /**
   * Stops claiming, aborts running jobs and hands them back (lease released, so another worker takes them over at
   * once), then resolves.
   */
  stop(): Promise<void>;
  /** How many jobs run now (of one source, or all). */
  readonly running: number;
  runningOf(source: string): number;
}

/**
 * One worker loop for every kind of job: each source gets its slots; a slot claims a job, runs it with the
 * handler of its kind while renewing the lease every third of its length (aborting the job when the renewal says
 * it is no longer ours), and sleeps a poll interval when there is nothing to do. On stop, running jobs are aborted
 * and handed back, and a job claimed just as the runner stops is handed back untouched.
 */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { workerId, logger, sources, handlers } = options;
  const clock = options.clock ?? systemClock;
  let stopping = false;
  let started = false;
  let claims = 0;
  const wakers = new Map<string, Set<() => void>>();
  const running = new Map<string, Set<AbortController>>();
  const loops: Array<Promise<void>> = [];
  /** When claims started failing because the database is away (shared by every slot); `undefined` otherwise. */
  let outageSince: number | undefined;

  const claimFailed = (what: string, error: unknown) => {
    if (!options.isUnavailable?.(error)) {
      logger.error({ err: error }, `claiming a ${what} failed`);
      return;
    }
    if (outageSince !== undefined) return;
    outageSince = clock.now();
    logger.warn(
      { err: error },
      'database unavailable: no new jobs are claimed until it answers (logged once; running jobs keep their work)',
    );
  };

  const claimWorked = () => {
    if (outageSince === undefined) return;
    const outageMs = clock.now() - outageSince;
    outageSince = undefined;
    logger.info({ outageMs }, 'database available again: claiming jobs resumed');
  };

  const sleep = (source: string, ms: number) =>
    new Promise<void>((resolve) => {
      const set = wakers.get(source) ?? new Set();
      wakers.set(source, set);
      const timer = clock.setTimeout(done, ms);
      function done() {
        clock.clearTimeout(timer);
        set.delete(done);
        resolve();
      }
      set.add(done);
    });

  const wake = (source?: string) => {
    for (const [name, set] of wakers) {
      if (source === undefined || source === name) for (const done of [...set]) done();
    }
  };

  /** Renews every third of the lease while the job runs; `lost` once a renewal says it is no longer ours. */
  const keepLease = <C>(source: JobSource<C>, claim: C, controller: AbortController, log: Logger) => {
    const state = { lost: false, stop: () => {} };
    let timer: unknown;
    let stopped = false;
    const interval = Math.max(1000, (source.leaseSeconds * 1000) / 3);
    const schedule = () => {
      timer = clock.setTimeout(() => {
        source
          .renew(claim, source.leaseSeconds)
          .then((ours) => {
            if (!ours && !stopped) {
              state.lost = true;
              controller.abort(new Error('lease lost'));
            }
          })
          .catch((error: unknown) => log.warn({ err: error }, 'renewing a lease failed'))
          .finally(() => {
            if (!stopped && !state.lost) schedule();
          });
      }, interval);
    };
    schedule();
    state.stop = () => {
      stopped = true;
      clock.clearTimeout(timer);
    };
    return state;
  };

  const runJob = async <C>(name: string, source: JobSource<C>, claim: C) => {
    const kind = source.kindOf(claim);
    const handler = handlers[kind] as JobHandler<C> | undefined;
    if (!handler) {
      // Left to its lease: another process (a newer version) may know the kind.
      logger.error({ kind }, `no handler for a ${source.what} of this kind`);
      return;
    }
    const log = logger.child(handler.describe(claim));
    const controller = new AbortController();
    const active = running.get(name) ?? new Set();
    running.set(name, active);
    active.add(controller);
    const lease = keepLease(source, claim, controller, log);
    const ctx: JobContext = { signal: controller.signal, log };
    try {
      await handler.run(claim, ctx);
    } catch (error) {
      if (lease.lost) {
        if (handler.onLeaseLost) handler.onLeaseLost(claim, log);
        else log.warn(`${source.what} stopped: its lease was lost`);
      } else if (stopping) {
        handler.onShutdown?.(claim, log);
        await source.release(claim).catch(() => {});
      } else {
        await handler
          .onFailure(claim, error, ctx)
          .catch((e: unknown) => log.error({ err: e }, `recording a failed ${source.what} failed`));
      }
    } finally {
      lease.stop();
      active.delete(controller);
    }
  };

  const runSlot = async <C>(name: string, source: JobSource<C>) => {
    while (!stopping) {
      if (source.hasRoom && !source.hasRoom()) {
        await sleep(name, options.pollMs);
        continue;
      }
      let claim: C | undefined;
      try {
        claims += 1;
        claim = await source.claim(`${workerId}#${claims}`, source.leaseSeconds);
        claimWorked();
      } catch (error) {
        if (!stopping) claimFailed(source.what, error);
      }
      if (stopping) {
        if (claim !== undefined) await source.release(claim).catch(() => {});
        break;
      }
      if (claim === undefined) {
        await sleep(name, options.pollMs);
        continue;
      }
      await runJob(name, source, claim);
    }
  };

  return {
    workerId,
    get running() {
      let count = 0;
      for (const set of running.values()) count += set.size;
      return count;
    },
    runningOf(source) {
      return running.get(source)?.size ?? 0;
    },
    start() {
      if (started) return;
      started = true;
      for (const [name, source] of Object.entries(sources)) {
        for (let i = 0; i < source.slots; i += 1) loops.push(runSlot(name, source));
      }
    },
    notify(source) {
      wake(source);
    },
    async stop() {
      stopping = true;
      wake();
      for (const set of running.values()) {
        for (const controller of set) controller.abort(new Error('shutdown'));
      }
      await Promise.all(loops);
    },
  };
}
