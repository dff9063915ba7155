// Child processes of the benchmark: the real server (`notetaker-stream serve`), its CLI, and the S3 test server.
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const children = new Set();

/** Kills every child still running (used on exit and on Ctrl-C). */
export function killChildren() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Resolves with the first stdout line matching `pattern` (its match), rejects if the process exits first. */
function waitForLine(child, pattern, what, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const seen = [];
    const timer = setTimeout(
      () => fail(new Error(`${what}: no start line within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code) => fail(new Error(`${what} exited (${code}) before starting:\n${seen.join('\n')}`));
    function fail(error) {
      clearTimeout(timer);
      child.off('exit', onExit);
      reject(error);
    }
    child.once('exit', onExit);
    lines.on('line', (line) => {
      if (seen.length < 50) seen.push(line);
      const match = pattern.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.removeAllListeners('line');
      lines.on('line', () => {});
      resolve(match);
    });
  });
}

async function stopChild(child, timeoutMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Starts the S3 test server in its own process; resolves with its settings as server environment variables. */
export async function startS3Process({ repoRoot }) {
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', 's3-server.mjs')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --openssl-legacy-provider`.trim(),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  const [line] = await waitForLine(child, /^\{.*\}$/, 'S3 test server');
  const s3 = JSON.parse(line);
  return {
    env: {
      S3_BUCKET: s3.bucket,
      S3_ENDPOINT: s3.endpoint,
      S3_REGION: s3.region,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    },
    stop: () => stopChild(child),
  };
}

/**
 * Starts `node [nodeArgs] packages/stream-server/dist/cli.js serve` with `env` (PORT 0, logs at warn) and resolves
 * once it prints its URL. `cli(args)` runs another command of the same CLI with the same environment.
 */
export async function startServerProcess({ cliPath, env, startTimeoutMs, nodeArgs = [] }) {
  const fullEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env };
  const child = track(
    spawn(process.execPath, [...nodeArgs, cliPath, 'serve'], {
      env: fullEnv,
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const match = await waitForLine(child, /listening on (\S+)/, 'server', startTimeoutMs);
  const url = match[1];
  return {
    url,
    pid: child.pid,
    env: fullEnv,
    async cli(args) {
      const { stdout } = await exec(process.execPath, [cliPath, ...args, '--server', url], {
        env: fullEnv,
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout.trim();
    },
    async token(sub) {
      const { stdout } = await exec(process.execPath, [cliPath, 'token', '--sub', sub], { env: fullEnv });
      return stdout.trim();
    },
    stop: () => stopChild(child),
  };
}

function statusKb(pid, field) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU time a process has used, in seconds: its own (user + system) plus that of its children it has waited for
 * (ffmpeg and ffprobe runs, once they exit). Less sensitive to other load on the machine than wall-clock time.
 */
export function cpuSeconds(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, utime/stime/cutime/cstime are fields 14-17 (1-based).
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return ticks / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

const CLOCK_TICKS = 100;

/**
 * {@link cpuSeconds} of a process and of every descendant still running. The server starts ffmpeg and ffprobe from
 * a helper process of its own, whose waited-for children count in the helper's figure until it exits.
 */
export function treeCpuSeconds(pid) {
  return childPids(pid).reduce((sum, child) => sum + treeCpuSeconds(child), cpuSeconds(pid));
}

function descendantPids(pid) {
  return childPids(pid).flatMap((child) => [child, ...descendantPids(child)]);
}

function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function commOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function folderBytes(dir) {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else {
      try {
        total += statSync(full).size;
      } catch {
        // removed between listing and stat
      }
    }
  }
  return total;
}

/**
 * Samples the server process while it works: its resident memory (VmRSS every 20 ms, plus the kernel's own peak
 * VmHWM, reset at the start through /proc/<pid>/clear_refs), the peak of the ffmpeg processes it started (through
 * its launcher helper), its CPU with theirs, and the size of the generation temp folder.
 */
export function sampleServer({ pid, tempDir }) {
  let hwmReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    hwmReset = false;
  }
  const startRssKb = statusKb(pid, 'VmRSS') ?? 0;
  const startCpu = treeCpuSeconds(pid);
  let rssPeakKb = startRssKb;
  let ffmpegPeakKb = 0;
  let tmpPeakBytes = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    const rss = statusKb(pid, 'VmRSS');
    if (rss !== undefined && rss > rssPeakKb) rssPeakKb = rss;
    for (const child of descendantPids(pid)) {
      if (!commOf(child).startsWith('ffmpeg')) continue;
      const peak = statusKb(child, 'VmHWM') ?? statusKb(child, 'VmRSS') ?? 0;
      if (peak > ffmpegPeakKb) ffmpegPeakKb = peak;
    }
    if (ticks % 5 === 0) tmpPeakBytes = Math.max(tmpPeakBytes, folderBytes(tempDir));
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      const hwm = hwmReset ? (statusKb(pid, 'VmHWM') ?? 0) : 0;
      const mb = (kb) => Math.round((kb / 1024) * 10) / 10;
      return {
        cpuS: Math.round((treeCpuSeconds(pid) - startCpu) * 100) / 100,
        startRssMb: mb(startRssKb),
        rssPeakMb: mb(Math.max(rssPeakKb, hwm)),
        ffmpegPeakMb: mb(ffmpegPeakKb),
        tmpPeakMb: Math.round((tmpPeakBytes / 1024 / 1024) * 10) / 10,
        hwmReset,
      };
    },
  };
}
