import { describeFfmpegFailure, MediaMessage, type FailureDescription } from './ffmpeg-failure.js';
import { MediaError } from './media-error.js';
import { getPriority, setPriority } from 'node:os';
import type { LaunchPriority, ProcessLauncher } from './process-launcher.js';

/**
 * How much lower than the service's own priority the ffmpeg runs of work after `ready` (poster, storyboard, lower
 * renditions) go, added to its nice value: as background work they never slow a first view, a request or the
 * segments a viewer is fetching, and on an idle machine it costs nothing. A first view's generation runs at the
 * service's priority: a viewer is waiting on it.
 */
export const BACKGROUND_NICENESS = 15;

/**
 * How much lower a generation's ffmpeg runs once its first segment is stored (the video is playable): the rest of
 * the video yields the CPU to every other video still waiting for its first segment, and still comes before work
 * after `ready` ({@link BACKGROUND_NICENESS}). Alone on the machine it costs nothing.
 */
export const GENERATION_REST_NICENESS = 10;

/** How many stderr lines a failure keeps for the logs. */
export const STDERR_TAIL_LINES = 40;

const MAX_LINE_CHARS = 2_000;
const MAX_STDOUT_BYTES = 32 * 1024 * 1024;

export interface MediaProcessOptions {
  /** Executable, e.g. `/usr/bin/ffmpeg` or `ffmpeg` (looked up on PATH). */
  bin: string;
  args: readonly string[];
  /** Wall-clock limit; past it the process is SIGKILLed and the run fails with `timeout`. */
  timeoutMs: number;
  /** Aborting SIGKILLs the process; the run fails with `aborted`. */
  signal?: AbortSignal | undefined;
  /** Called for every stdout line (without the newline). */
  onStdoutLine?: ((line: string) => void) | undefined;
  /** Keep stdout and return it (ffprobe's JSON); lines are still passed to `onStdoutLine`. */
  collectStdout?: boolean | undefined;
  /** Turns a non-zero exit into an error description; default: classified as an ffmpeg conversion. */
  describeFailure?: ((stderrTail: string) => FailureDescription) | undefined;
  /** Added to this process's nice value for the child (e.g. {@link BACKGROUND_NICENESS}); default 0. */
  niceness?: number | undefined;
  /** Its turn when the launcher bounds processes and it must wait (see `process-budget.ts`). */
  priority?: LaunchPriority | undefined;
  /** An encode: counted against a bounded launcher's transcode limit. */
  transcode?: boolean | undefined;
  /**
   * What starts the process: the worker's launcher helper (`createProcessLauncher`, made once by the server that
   * runs the worker) or `directLauncher` (a plain spawn, for code that runs without a server).
   */
  launcher: ProcessLauncher;
}

export interface MediaProcessResult {
  /** Collected stdout (empty unless `collectStdout`). */
  stdout: string;
  /** The last {@link STDERR_TAIL_LINES} stderr lines. */
  stderrTail: string;
  /** The command line, shell-quoted, for logs. */
  command: string;
}

/** A running ffmpeg/ffprobe. `result` settles only after the process has exited: nothing is left behind. */
export interface MediaProcess {
  /** `undefined` until the process has started (at once for a direct spawn), and when it could not be. */
  readonly pid: number | undefined;
  /** SIGSTOP: the process keeps its state but stops writing (upload backpressure). Returns false once exited. */
  pause(): boolean;
  /** SIGCONT after {@link MediaProcess.pause}. */
  resume(): boolean;
  /**
   * Adds `niceness` to the process's nice value (up to 19): it keeps running, but yields the CPU to processes
   * of a lower nice value. Only ever lowers the priority (raising it again needs privileges). False when it
   * has not started, has exited, or the system refused.
   */
  lowerPriority(niceness: number): boolean;
  readonly result: Promise<MediaProcessResult>;
}

/**
 * Quotes a command line for a log line (never executed). Query strings of URLs are replaced by `?…`: a presigned
 * URL's signature does not belong in logs.
 */
export function formatCommand(bin: string, args: readonly string[]): string {
  const redact = (value: string) => (/^https?:\/\//i.test(value) ? value.replace(/\?.*$/s, '?…') : value);
  const quote = (value: string) =>
    /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
  return [bin, ...args].map((value) => quote(redact(value))).join(' ');
}

/** Splits a byte stream into lines; the last partial line is kept until `flush`. */
function createLineSplitter(onLine: (line: string) => void): { push(chunk: string): void; flush(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk;
      const lines = pending.split(/\r\n|\n|\r/);
      pending = lines.pop() ?? '';
      if (pending.length > MAX_LINE_CHARS) pending = pending.slice(-MAX_LINE_CHARS);
      for (const line of lines) onLine(line);
    },
    flush() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}

function formatDuration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} seconds`;
  return `${Math.round(ms / 60_000)} minutes`;
}

/**
 * Spawns ffmpeg or ffprobe and owns the process until it has exited: wall-clock timeout and AbortSignal both
 * SIGKILL it, every failure is a {@link MediaError} carrying the stderr tail and the command line.
 */
export function startMediaProcess(options: MediaProcessOptions): MediaProcess {
  const command = formatCommand(options.bin, options.args);
  const failure = (code: MediaError['code'], message: string, permanent: boolean, extra: object = {}) =>
    new MediaError(code, message, { permanent, command, ...extra });

  if (options.signal?.aborted) {
    const result = Promise.reject(
      failure('aborted', MediaMessage.Aborted, false, { cause: options.signal.reason }),
    );
    return { pid: undefined, pause: () => false, resume: () => false, lowerPriority: () => false, result };
  }

  const child = options.launcher.launch(options.bin, options.args, {
    niceness: options.niceness,
    priority: options.priority,
    transcode: options.transcode,
  });
  const stderrLines: string[] = [];
  const stdoutChunks: string[] = [];
  let stdoutBytes = 0;
  let stopReason: 'timeout' | 'aborted' | 'stdout_overflow' | undefined;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const kill = () => {
    if (!exited()) child.kill('SIGKILL');
  };

  const stderr = createLineSplitter((line) => {
    const redacted = line.replace(/(https?:\/\/[^\s?'"]*)\?[^\s'"]*/gi, '$1?…');
    stderrLines.push(redacted.length > MAX_LINE_CHARS ? redacted.slice(0, MAX_LINE_CHARS) : redacted);
    if (stderrLines.length > STDERR_TAIL_LINES) stderrLines.shift();
  });
  const stdout = createLineSplitter((line) => {
    try {
      options.onStdoutLine?.(line);
    } catch {
      // A listener's bug must not take the process down with it.
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (options.collectStdout) {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        stopReason ??= 'stdout_overflow';
        kill();
        return;
      }
      stdoutChunks.push(chunk);
    }
    stdout.push(chunk);
  });

  const timer = setTimeout(() => {
    stopReason ??= 'timeout';
    kill();
  }, options.timeoutMs);
  const onAbort = () => {
    stopReason ??= 'aborted';
    kill();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const result = new Promise<MediaProcessResult>((resolve, reject) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
      // When spawning fails there is no 'close' on some Node versions; make sure we settle either way.
      if (child.pid === undefined) setImmediate(() => settle(null, null));
    });
    child.once('close', (code, signal) => settle(code, signal));

    let settled = false;
    function settle(code: number | null, signal: NodeJS.Signals | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stderr.flush();
      stdout.flush();
      const stderrTail = stderrLines.join('\n');
      const details = { stderrTail };
      if (stopReason === 'timeout') {
        reject(
          failure(
            'timeout',
            `Converting the video took longer than ${formatDuration(options.timeoutMs)}.`,
            false,
            details,
          ),
        );
      } else if (stopReason === 'aborted') {
        reject(
          failure('aborted', MediaMessage.Aborted, false, { ...details, cause: options.signal?.reason }),
        );
      } else if (stopReason === 'stdout_overflow') {
        reject(failure('ffmpeg_failed', MediaMessage.ConversionFailed, true, details));
      } else if (spawnError && child.pid === undefined) {
        reject(
          failure('ffmpeg_failed', MediaMessage.ConversionFailed, false, { ...details, cause: spawnError }),
        );
      } else if (code === 0) {
        resolve({ stdout: stdoutChunks.join(''), stderrTail, command });
      } else if (code === null) {
        // Killed by someone else (out of memory, an operator): nothing says the input is at fault.
        reject(failure('ffmpeg_failed', MediaMessage.Interrupted, false, { ...details, cause: signal }));
      } else {
        const described = (options.describeFailure ?? ((tail) => describeFfmpegFailure(tail, 'convert')))(
          stderrTail,
        );
        reject(failure(described.code, described.message, described.permanent, details));
      }
    }
  });

  return {
    get pid() {
      return child.pid;
    },
    pause: () => !exited() && child.kill('SIGSTOP'),
    resume: () => !exited() && child.kill('SIGCONT'),
    lowerPriority: (niceness) => {
      const pid = child.pid;
      if (pid === undefined || exited()) return false;
      try {
        setPriority(pid, Math.min(19, getPriority(pid) + niceness));
        return true;
      } catch {
        return false;
      }
    },
    result,
  };
}

/**
 * Parses `-progress` output (`key=value` lines, a block ending with `progress=continue|end`) and reports the
 * output time in seconds at the end of each block.
 */
export function createProgressParser(onProgress: (outTimeSeconds: number) => void): (line: string) => void {
  let outTime: number | undefined;
  return (line) => {
    const at = line.indexOf('=');
    if (at < 0) return;
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    if (key === 'out_time_us' || key === 'out_time_ms') {
      // Both are microseconds (out_time_ms is misnamed in ffmpeg); "N/A" before the first frame.
      const micros = Number(value);
      if (value !== '' && Number.isFinite(micros) && micros >= 0) outTime = micros / 1_000_000;
    } else if (key === 'out_time' && outTime === undefined) {
      const match = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value);
      if (match) outTime = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
    } else if (key === 'progress') {
      if (outTime !== undefined) onProgress(outTime);
      outTime = undefined;
    }
  };
}

export interface RunFfmpegOptions {
  /** ffmpeg executable; e.g. `/usr/bin/ffmpeg`. */
  bin: string;
  /** Arguments, e.g. from `buildHlsArgs` (which includes `-progress pipe:1`). */
  args: readonly string[];
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  /** Output time reached so far, in seconds (needs `-progress pipe:1` in `args`). */
  onProgress?: ((outTimeSeconds: number) => void) | undefined;
  /** Added to this process's nice value for ffmpeg (e.g. {@link BACKGROUND_NICENESS}); default 0. */
  niceness?: number | undefined;
  /** Its turn when the launcher bounds processes (see {@link MediaProcessOptions.priority}). */
  priority?: LaunchPriority | undefined;
  /** An encode (see {@link MediaProcessOptions.transcode}). */
  transcode?: boolean | undefined;
  /** What starts ffmpeg (see {@link MediaProcessOptions.launcher}). */
  launcher: ProcessLauncher;
}

/**
 * Starts ffmpeg; see {@link runFfmpeg} for the promise-only form.
 *
 * @example
 * const ffmpeg = startFfmpeg({ bin: 'ffmpeg', args, timeoutMs: 600_000, launcher: directLauncher });
 * ffmpeg.pause(); ffmpeg.resume();
 * await ffmpeg.result;
 */
export function startFfmpeg(options: RunFfmpegOptions): MediaProcess {
  const onProgress = options.onProgress;
  return startMediaProcess({
    bin: options.bin,
    args: options.args,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    niceness: options.niceness,
    priority: options.priority,
    transcode: options.transcode,
    launcher: options.launcher,
    onStdoutLine: onProgress ? createProgressParser(onProgress) : undefined,
  });
}

/**
 * Runs ffmpeg to completion. Rejects with a {@link MediaError}: `timeout` / `aborted` after a SIGKILL, otherwise
 * a code and readable message derived from stderr (`ffmpeg_failed`, `incomplete`, `storage`, …), with
 * `stderrTail` and `command` attached. Settles only after the process has exited.
 *
 * @example
 * await runFfmpeg({ bin: '/usr/bin/ffmpeg', args: buildHlsArgs({ input, outputDir, plan }), timeoutMs: 600_000,
 *   onProgress: (seconds) => console.log(seconds) });
 */
export async function runFfmpeg(options: RunFfmpegOptions): Promise<MediaProcessResult> {
  return startFfmpeg(options).result;
}
