import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { makeTestMedia } from './helpers/media.js';
import { api, seedEmbeddedDatabase, waitForStream } from './helpers/test-server.js';

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs the built CLI; resolves with its exit code and output instead of throwing on a non-zero exit. */
async function cli(args: string[], env: Record<string, string>, cwd?: string) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      timeout: 120_000,
      cwd,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the notetaker-stream CLI', () => {
  let dir: string;
  let env: Record<string, string>;
  let serve: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-cli-'));
    env = { DATA_DIR: path.join(dir, 'data'), PORT: '0', LOG_LEVEL: 'warn', NODE_OPTIONS: '' };
    await seedEmbeddedDatabase(env['DATA_DIR']!);
    serve = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      serve.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match?.[1]) resolve(match[1]);
      });
      serve.once('exit', (code) => reject(new Error(`serve exited early with ${code}: ${out}`)));
    });
  });

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      serve.kill('SIGKILL');
      await new Promise((r) => serve.once('exit', r));
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('serve, import and token work together: /stream goes 202 → 200', async () => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 6 });
    const imported = await cli(
      ['import', file, '--owner', 'alice', '--title', 'From the CLI', '--server', url],
      env,
    );
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const video = JSON.parse(imported.stdout) as { id: string; title: string; upload_status: string };
    expect(video).toMatchObject({ title: 'From the CLI', upload_status: 'complete' });

    const token = await cli(['token', '--sub', 'alice', '--ttl', '10m'], env);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    const alice = api({ url }, token.stdout.trim());
    expect((await alice(`/api/videos/${video.id}/stream`)).status).toBe(202);
    expect((await waitForStream(alice, video.id)).body['status']).toBe('ready');

    // token --watch: another user plays alice's video; without it, the video is not theirs (404).
    const bob = await cli(['token', '--sub', 'bob', '--watch', `${video.id},${video.id}`], env);
    expect(bob.code).toBe(0);
    expect((await waitForStream(api({ url }, bob.stdout.trim()), video.id)).body['status']).toBe('ready');
    const eve = await cli(['token', '--sub', 'eve'], env);
    expect((await api({ url }, eve.stdout.trim())(`/api/videos/${video.id}/stream`)).status).toBe(404);
  });

  it('import --wait exits 0 once the video plays and prints it ready; list shows it and delete removes it', async () => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 4 });
    const imported = await cli(['import', file, '--owner', 'bob', '--wait', '--server', url], env);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const video = JSON.parse(imported.stdout) as { id: string; hls_status: string };
    expect(video.hls_status).toBe('ready');

    const listed = await cli(['list', '--owner', 'bob', '--json', '--server', url], env);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((v) => v.id)).toEqual([video.id]);
    const table = await cli(['list', '--owner', 'bob', '--server', url], env);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+UPLOAD\s+HLS\s+DURATION\s+TITLE$/);
    expect(table.stdout).toContain(`${video.id}  complete  ready`);

    const deleted = await cli(['delete', video.id, '--server', url], env);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${video.id}\n` });
    const after = await cli(['list', '--owner', 'bob', '--json', '--server', url], env);
    expect(JSON.parse(after.stdout)).toEqual([]);
  });

  it('import --wait exits 1 with the reason when the video cannot be prepared', async () => {
    const file = await makeTestMedia(dir, 'truncated-mp4');
    const imported = await cli(['import', file, '--owner', 'carol', '--wait', '--server', url], env);
    expect(imported.code).toBe(1);
    expect((JSON.parse(imported.stdout) as { hls_status: string }).hls_status).toBe('failed');
    expect(imported.stderr).toMatch(/^notetaker-stream: the video could not be prepared: .+\n$/);
  });

  it('stops gracefully on SIGTERM', async () => {
    serve.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => serve.once('exit', resolve));
    expect(code).toBe(0);
  });

  it.each([[['--help']], [['-h']], [['help']]])(
    'prints the usage with every command for %j and exits 0',
    async (args) => {
      const result = await cli(args, env);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      for (const command of ['serve', 'worker', 'migrate', 'import', 'list', 'delete', 'retry', 'token']) {
        expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
      }
    },
  );

  it('prints the usage of a command for "help <command>" and "<command> --help", exit 0', async () => {
    const [help, flag] = await Promise.all([cli(['help', 'import'], env), cli(['import', '--help'], env)]);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: notetaker-stream import <file> \[options\]\n/);
    expect(help.stdout).toMatch(/^  --wait {2,}Wait until the video is ready to play, or failed$/m);
    expect(flag).toEqual(help);
  });

  it('prints its version', async () => {
    const manifest = JSON.parse(await fs.readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(await cli(['--version'], env)).toMatchObject({
      code: 0,
      stdout: `${manifest.version}\n`,
      stderr: '',
    });
  });

  it.each([
    [
      ['import', 'x.mp4', '--owner', 'a', '--frob'],
      /^notetaker-stream: import: Unknown option '--frob' \(see "notetaker-stream import --help"\)\n$/,
    ],
    [['--frob'], /^notetaker-stream: unknown option '--frob' \(see "notetaker-stream help"\)\n$/],
    [
      ['list', '--owner'],
      /^notetaker-stream: list: Option '--owner <value>' argument missing \(see "notetaker-stream list --help"\)\n$/,
    ],
  ])(
    'refuses the unknown flag or missing value in %j with exit 2 and a one-line hint',
    async (args, line) => {
      const result = await cli(args, env);
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(line);
    },
  );

  it('says a directory or a special file is not a video file, and names a missing one', async () => {
    const folder = await cli(['import', dir, '--owner', 'a'], env);
    expect(folder).toMatchObject({ code: 2, stdout: '' });
    expect(folder.stderr).toMatch(/is a directory: import takes one video file/);
    const special = await cli(['import', '/dev/null', '--owner', 'a'], env);
    expect(special.stderr).toMatch(/\/dev\/null is not a regular file/);
    const under = await cli(['import', path.join(CLI, 'nothing.mp4'), '--owner', 'a'], env);
    expect(under.stderr).toMatch(/no such file: /);
  });

  it('never writes secrets.json when it only talks to a server, and says which key or DATA_DIR it needs', async () => {
    const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-cli-cwd-'));
    try {
      const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 2 });
      const { DATA_DIR: _unused, ...noDataDir } = env;
      for (const args of [
        ['import', file, '--owner', 'a', '--server', url],
        ['list', '--owner', 'a', '--server', url],
        ['delete', 'some-id', '--server', url],
        ['retry', 'some-id', '--server', url],
      ]) {
        const result = await cli(args, noDataDir, elsewhere);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(
          /no service API key: set SERVICE_API_KEY .* or DATA_DIR .*secrets\.json does not exist/,
        );
      }
      expect(await fs.readdir(elsewhere)).toEqual([]);
    } finally {
      await fs.rm(elsewhere, { recursive: true, force: true });
    }
  });

  it.each([
    [['frob'], /unknown command "frob"/],
    [['token'], /token needs --sub/],
    [['import', 'missing.mp4', '--owner', 'alice'], /no such file: missing\.mp4/],
    [['import', 'x.mp4'], /--owner/],
    [['token', '--sub', 'a', '--ttl', 'forever'], /--ttl must look like/],
    [['token', '--sub', 'a', '--watch', 'not-a-video'], /--watch takes video ids/],
  ])('refuses bad arguments %j with one clear line and exit code 2', async (args, message) => {
    const result = await cli(args as string[], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('reports an invalid configuration with every problem at once', async () => {
    const result = await cli(['token', '--sub', 'a'], { ...env, PORT: 'abc', S3_ENDPOINT: 'not a url' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/PORT/);
    expect(result.stderr).toMatch(/S3_ENDPOINT/);
  });

  it('reports an unreachable database with a one-line error and exit code 1', async () => {
    const result = await cli(['migrate'], { ...env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/ECONNREFUSED|connect/);
  });

  it('says the server is not running when import cannot reach it', async () => {
    const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 6 });
    const result = await cli(['import', file, '--owner', 'alice', '--server', 'http://127.0.0.1:1'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach the server/);
  });
});
