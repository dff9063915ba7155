import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** Runs `notetaker-stream <args>` (the built CLI) as a real child process. */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * An ffmpeg that reads its input at `rate`× real time (`-readrate`), so a test can act while a generation is in
 * progress. Optionally records each HLS run (`-f hls`; not the poster and storyboard runs) in `runsFile`.
 */
export async function writeSlowFfmpeg(dir: string, rate: number, runsFile?: string): Promise<string> {
  const file = path.join(dir, `slow-ffmpeg-${rate}`);
  const record = runsFile ? `case " $* " in *" -f hls "*) echo run >> '${runsFile}';; esac\n` : '';
  await fs.writeFile(
    file,
    `#!/bin/bash\n${record}args=()\nfor a in "$@"; do\n  if [ "$a" = "-i" ]; then args+=(-readrate ${rate}); fi\n  args+=("$a")\ndone\nexec ffmpeg "\${args[@]}"\n`,
    { mode: 0o755 },
  );
  return file;
}

/**
 * Writes an ffprobe wrapper that reports a source's H.264 stream as HEVC, but tells the truth about produced `.ts`
 * segments: the MP4 index vouches for a copy, the probe asks for a transcode. Returns its path.
 */
export async function writeFfprobeReportingHevc(dir: string, ffprobe = 'ffprobe'): Promise<string> {
  const file = path.join(dir, 'ffprobe-reporting-hevc');
  await fs.writeFile(
    file,
    [
      '#!/bin/sh',
      `case "$*" in *.ts) exec ${ffprobe} "$@" ;; esac`,
      `${ffprobe} "$@" | sed 's/"codec_name": "h264"/"codec_name": "hevc"/'`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

/** ffmpeg arguments for a slow, endless-looking run: real-time reading of a 10-minute synthetic input. */
export const SLOW_FFMPEG_ARGS: readonly string[] = [
  '-hide_banner',
  '-nostdin',
  '-progress',
  'pipe:1',
  '-nostats',
  '-re',
  '-f',
  'lavfi',
  '-i',
  'testsrc2=size=160x120:rate=10:duration=600',
  '-f',
  'null',
  '-',
];

/** Fields of /proc/<pid>/stat after the command name ([0] state, [1] parent pid); `undefined` once it is gone. */
export function procStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** True while `pid` is a process that has not exited (a zombie has). */
export function isRunning(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat[0] !== 'Z';
}

/**
 * Writes an ffprobe wrapper that answers only after `delaySeconds`, then creates `answeredFile`. Returns its path.
 */
export async function writeSlowFfprobe(
  dir: string,
  answeredFile: string,
  ffprobe = 'ffprobe',
  delaySeconds = 2,
): Promise<string> {
  const file = path.join(dir, 'slow-ffprobe');
  await fs.writeFile(
    file,
    `#!/bin/sh\nsleep ${delaySeconds}\n${ffprobe} "$@"\nstatus=$?\ntouch '${answeredFile}'\nexit $status\n`,
    { mode: 0o755 },
  );
  return file;
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
