#!/usr/bin/env node
// The quick-start test (part of `npm test`): the README's first steps, the way a new user takes them, on a fresh
// clone of the committed state (uncommitted changes are not in it):
//
//   git clone → npm install (once) → npm start → npx notetaker-stream import ./my-video.mp4 --owner alice
//   → TOKEN=$(npx notetaker-stream token --sub alice) → GET /api/videos/<id>/stream until ready → the HLS plays
//
// and `npx notetaker-stream --help` exits 0. The clone is installed with npm's cache preferred over the registry
// (`--prefer-offline`: the repository's own install has just filled it), which changes nothing but the speed; the
// server listens on a free port given through PORT, which the CLI reads as well (docs/decisions/0027).
//
//   node scripts/quickstart-test/run.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { runFfmpeg, testSourceArgs } from '../../packages/test-support/src/media.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
const step = (message) => console.log(`quick-start test [${elapsed()}] ${message}`);
const fail = (message) => {
  throw new Error(message);
};

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command in the clone as a user would type it; resolves with its stdout, rejects with its output. */
function run(command, args, { cwd, env, allowFailure = false }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || allowFailure) resolve({ code, stdout, stderr });
      else
        reject(
          new Error(
            `\`${[command, ...args].join(' ')}\` exited ${code}\n${stdout.slice(-3000)}${stderr.slice(-3000)}`,
          ),
        );
    });
  });
}

/** `npm start` in its own process group; resolves once it prints the URL it listens on. */
function startServer(cwd, env) {
  const child = spawn('npm', ['start'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('close', resolve));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  };
  process.once('exit', () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not print its URL within 5 minutes:\n${output.slice(-3000)}`)),
      5 * 60_000,
    );
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited ${code} before listening:\n${output.slice(-3000)}`));
    });
  });
  return { listening, stop, output: () => output };
}

async function main() {
  try {
    execFileSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: repo, stdio: 'ignore' });
  } catch {
    fail('it clones the repository, so it must run in a git checkout');
  }
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo })
    .toString()
    .trim();
  if (dirty) step('note: uncommitted changes are not part of the clone it tests');

  const work = mkdtempSync(path.join(os.tmpdir(), 'notetaker-quickstart-'));
  const clone = path.join(work, 'notetaker-stream');
  let server;
  try {
    step(
      `git clone ${repo} (HEAD ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo }).toString().trim()})`,
    );
    await run('git', ['clone', '--quiet', '--no-hardlinks', repo, clone], { cwd: work, env: process.env });

    const port = await freePort();
    // A user's shell: no settings of this repository's own test run (turbo's, npm's lifecycle, a narrowed engine
    // list), npm's cache preferred, the free port in PORT for both the server and the CLI.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) =>
          !/^(npm_|TURBO_|NOTETAKER_|INIT_CWD$|DATA_DIR$|DATABASE_URL$|SERVICE_API_KEY$)/.test(name),
      ),
    );
    // `npm test` puts this repository's node_modules/.bin on PATH: a command missing from the clone must not be
    // found there.
    env.PATH = (env.PATH ?? '')
      .split(path.delimiter)
      .filter((dir) => !dir.includes(`${path.sep}node_modules${path.sep}.bin`))
      .join(path.delimiter);
    Object.assign(env, {
      PORT: String(port),
      HOST: '127.0.0.1',
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      TURBO_TELEMETRY_DISABLED: '1',
    });

    step('npm install (one install, as the README says)');
    await run('npm', ['install'], { cwd: clone, env });

    step('npx notetaker-stream --help');
    const help = await run('npx', ['notetaker-stream', '--help'], { cwd: clone, env });
    if (!/import/.test(help.stdout)) fail(`--help printed no usage:\n${help.stdout}`);

    step('npm start');
    server = startServer(clone, env);
    const url = await server.listening;
    if (url !== `http://127.0.0.1:${port}`) fail(`npm start listens on ${url}, not on PORT ${port}`);

    await runFfmpeg([...testSourceArgs(4), '-movflags', '+faststart', path.join(clone, 'my-video.mp4')]);
    step('npx notetaker-stream import ./my-video.mp4 --owner alice');
    const imported = await run('npx', ['notetaker-stream', 'import', './my-video.mp4', '--owner', 'alice'], {
      cwd: clone,
      env,
    });
    const { id } = JSON.parse(imported.stdout);
    if (typeof id !== 'string' || !id) fail(`import printed no id:\n${imported.stdout}`);

    step('TOKEN=$(npx notetaker-stream token --sub alice)');
    const token = (
      await run('npx', ['notetaker-stream', 'token', '--sub', 'alice'], { cwd: clone, env })
    ).stdout.trim();
    if (!token || /\s/.test(token))
      fail(`token printed something else than one token: ${JSON.stringify(token)}`);

    step(`GET /api/videos/${id}/stream until ready`);
    const answers = [];
    let ready;
    for (const deadline = Date.now() + 3 * 60_000; !ready;) {
      const response = await fetch(`${url}/api/videos/${id}/stream`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = await response.json();
      answers.push(`${response.status} ${body.status}`);
      if (response.status === 200 && body.status === 'ready') ready = body;
      else if (response.status !== 202 || body.status !== 'generating') {
        fail(`/stream answered ${response.status} ${JSON.stringify(body)}`);
      } else if (Date.now() > deadline) fail(`not ready within 3 minutes (${answers.join(', ')})`);
      else await new Promise((resolve) => setTimeout(resolve, Math.min(2, body.retry_after ?? 1) * 1000));
    }
    if (!ready.hls_url || !ready.expires_at)
      fail(`ready without hls_url/expires_at: ${JSON.stringify(ready)}`);

    // It plays: ffprobe reads the whole HLS stream (playlist and presigned segments) and finds the 4 s of video.
    step('ffprobe hls_url');
    const probe = await run(
      process.env.FFPROBE_PATH ?? 'ffprobe',
      ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type', '-of', 'json', ready.hls_url],
      { cwd: work, env: process.env },
    );
    const { format, streams } = JSON.parse(probe.stdout);
    const kinds = streams.map((stream) => stream.codec_type).sort();
    if (!kinds.includes('video') || !kinds.includes('audio')) fail(`hls_url has ${kinds.join(', ')} streams`);
    if (Math.abs(Number(format.duration) - 4) > 0.6) fail(`hls_url plays ${format.duration} s, not 4 s`);
    console.log(`quick-start test: PASSED in ${elapsed()} (/stream answers: ${answers.join(', ')})`);
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`quick-start test: FAILED after ${elapsed()}: ${error.message}`);
  process.exit(1);
});
