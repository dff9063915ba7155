/**
 * Keeps docker-compose.yml and the Dockerfile honest without a Docker engine: checks their structure, then runs the
 * very commands and environment they give the `api` and `worker` services as two processes here — a real
 * PostgreSQL standing in for the `postgres` service and the S3 test server for `minio`. Only what names the
 * network differs: DATABASE_URL, S3_ENDPOINT and PORT (plus DATA_DIR, the container's volume path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { mintUserToken } from '../src/auth/user-tokens.js';
import { loadConfig } from '../src/config/load-config.js';
import { makeTestMedia } from './helpers/media.js';
import { startTestS3, type TestS3 } from './helpers/s3.js';
import { api, createTestDatabase, waitForStream } from './helpers/test-server.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean; interval?: string };
  configs?: Array<{ source: string; target: string }>;
  networks?: Record<string, { aliases?: string[] }>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  configs?: Record<string, { content: string }>;
  volumes?: Record<string, unknown>;
}

/**
 * Compose's variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`,
 * `${VAR?error}` and `$$` for a literal `$`. Throws the `?` message for a required variable that is missing.
 */
function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (
      match,
      braced: string | undefined,
      op: string | undefined,
      arg: string | undefined,
      bare: string | undefined,
    ) => {
      if (match === '$$') return '$';
      const name = braced ?? bare!;
      const value = vars[name];
      const missing = op?.startsWith(':') ? value === undefined || value === '' : value === undefined;
      if (op?.endsWith('-')) return missing ? (arg ?? '') : value!;
      if (op?.endsWith('?')) {
        if (missing) throw new Error(`required variable ${name} is missing: ${arg}`);
        return value!;
      }
      return value ?? '';
    },
  );
}

/** The environment of a service as Compose resolves it (merge keys applied by the parser). */
function serviceEnvironment(service: ComposeService, vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [
      name,
      interpolate(String(value), vars),
    ]),
  );
}

/** `ENV` instructions of the Dockerfile's last stage (the image the services run). */
function imageEnvironment(dockerfile: string): Record<string, string> {
  const stages = dockerfile.replace(/\\\n/g, ' ').split(/^FROM /m);
  const runtime = stages.at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const line of runtime.split('\n')) {
    const match = /^ENV\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    // name=value pairs; a value with spaces is double-quoted (`NODE_OPTIONS="--a --b"`).
    for (const pair of match[1]!.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      const value = pair[2]!;
      env[pair[1]!] = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
    }
  }
  return env;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface RunningProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

/** Starts `notetaker-stream <args>` the way the image's entrypoint does, with exactly `env`. */
function run(args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return {
    child,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`${args.join(' ')} exited (${code}) before printing ${pattern}:\n${out}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${args.join(' ')} did not print ${pattern} within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.stderr!.off('data', check);
          child.off('exit', onExit);
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to completion; resolves with its exit code and separate stdout/stderr. */
function runToEnd(command: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { env: { PATH: process.env['PATH'] ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What a self-hoster's .env holds (docs/deploying.md). The S3 test server knows only its own key pair. */
const DOT_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'postgres-password-for-tests',
  MINIO_ROOT_PASSWORD: 'minio-root-password-for-tests',
  S3_ACCESS_KEY_ID: 'S3RVER',
  S3_SECRET_ACCESS_KEY: 'S3RVER',
  AUTH_JWT_SECRET: 'compose-test-jwt-secret-0123456789abcdef',
  SERVICE_API_KEY: 'compose-test-service-key-0123456789',
  PLAYBACK_SECRET: 'compose-test-playback-secret-0123456789',
};

describe('docker-compose.yml and the Dockerfile', () => {
  let compose: ComposeFile;
  let dockerfile: string;

  beforeAll(async () => {
    compose = parse(await fs.readFile(path.join(REPO, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as ComposeFile;
    dockerfile = await fs.readFile(path.join(REPO, 'Dockerfile'), 'utf8');
  });

  it('builds a small multi-stage image with ffmpeg that runs as a non-root user and checks /healthz', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends ffmpeg/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(dockerfile).toMatch(/--omit=dev/);
    const env = imageEnvironment(dockerfile);
    expect(env).toMatchObject({ HOST: '0.0.0.0', PORT: '8787', DATA_DIR: '/data' });
    expect(dockerfile).toMatch(/^ENTRYPOINT \["tini", "--", "notetaker-stream"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["serve"\]$/m);
  });

  it('runs PostgreSQL, MinIO with a one-shot bucket setup, the API and a separate worker', () => {
    const { services } = compose;
    expect(Object.keys(services).sort()).toEqual(['api', 'minio', 'minio-setup', 'postgres', 'worker']);

    expect(services['postgres']!.healthcheck?.test?.join(' ')).toContain('pg_isready');
    expect(services['minio']!.healthcheck?.test).toEqual(['CMD', 'mc', 'ready', 'local']);
    expect(services['minio']!.networks?.['default']?.aliases).toContain('minio.localhost');

    const setup = services['minio-setup']!;
    expect(setup.image).toMatch(/^minio\/mc:RELEASE\./);
    expect(setup.depends_on?.['minio']?.condition).toBe('service_healthy');
    const script = setup.command?.join('\n') ?? '';
    expect(script).toContain('mc mb --ignore-existing "local/$$S3_BUCKET"');
    expect(script).toContain('mc anonymous set none "local/$$S3_BUCKET"');
    expect(script).toContain('mc cors set "local/$$S3_BUCKET" /setup/cors.xml');
    const cors = compose.configs?.['bucket-cors']?.content ?? '';
    for (const needed of [
      '<AllowedMethod>GET</AllowedMethod>',
      '<AllowedHeader>Range</AllowedHeader>',
      '<ExposeHeader>ETag</ExposeHeader>',
    ]) {
      expect(cors).toContain(needed);
    }

    const apiService = services['api']!;
    expect(apiService.command).toEqual(['serve', '--no-worker']);
    expect(apiService.ports).toContain('8787:8787');
    expect(apiService.healthcheck?.test?.join(' ')).toContain('/healthz');
    expect(apiService.depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      'minio-setup': { condition: 'service_completed_successfully' },
    });

    const worker = services['worker']!;
    expect(worker.command).toEqual(['worker']);
    expect(worker.image).toBe(apiService.image);
    expect(worker.healthcheck?.disable).toBe(true);
    expect(worker.ports).toBeUndefined();
  });

  it('gives the API and the worker the same valid production configuration', async () => {
    const apiEnv = serviceEnvironment(compose.services['api']!, DOT_ENV);
    const workerEnv = serviceEnvironment(compose.services['worker']!, DOT_ENV);
    expect(workerEnv).toEqual(apiEnv);
    expect(apiEnv).toMatchObject({
      DATABASE_URL: `postgres://notetaker:${DOT_ENV['POSTGRES_PASSWORD']}@postgres:5432/notetaker`,
      S3_BUCKET: 'notetaker',
      S3_ENDPOINT: 'http://minio.localhost:9000',
      S3_FORCE_PATH_STYLE: 'true',
    });
    const config = loadConfig({ ...imageEnvironment(dockerfile), ...apiEnv });
    expect(config.database.kind).toBe('postgres');
    expect(config.storage.kind).toBe('s3');
    expect(config.host).toBe('0.0.0.0');
    // Production mode: no dev sign-in, tokens come from the host app.
    expect(config.devLogin).toBe(false);

    // Every variable the services set is a documented one.
    const documented = await fs.readFile(path.join(REPO, 'docs/configuration.md'), 'utf8');
    for (const name of Object.keys(apiEnv)) expect(documented).toContain(`\`${name}\``);

    // Secrets are never defaulted: without them Compose refuses to start.
    const { AUTH_JWT_SECRET: _omitted, ...withoutSecret } = DOT_ENV;
    expect(() => serviceEnvironment(compose.services['api']!, withoutSecret)).toThrow(/AUTH_JWT_SECRET/);
  });

  describe('the api and worker services, run outside Docker', () => {
    let s3: TestS3;
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let dir: string;
    let apiProcess: RunningProcess;
    let workerProcess: RunningProcess;
    let apiEnv: Record<string, string>;
    let url: string;

    beforeAll(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-compose-'));
      const port = await freePort();
      const vars = { ...DOT_ENV, PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'info' };
      const composeApi = serviceEnvironment(compose.services['api']!, vars);
      s3 = await startTestS3({ bucket: composeApi['S3_BUCKET']! });
      database = await createTestDatabase();
      const image = imageEnvironment(dockerfile);
      const hosts = { DATABASE_URL: database.url, S3_ENDPOINT: s3.endpoint };
      apiEnv = {
        ...image,
        ...composeApi,
        ...hosts,
        PORT: String(port),
        DATA_DIR: path.join(dir, 'api-data'),
      };
      const workerEnv = {
        ...image,
        ...serviceEnvironment(compose.services['worker']!, vars),
        ...hosts,
        DATA_DIR: path.join(dir, 'worker-data'),
      };
      await fs.mkdir(apiEnv['DATA_DIR']!, { recursive: true });
      await fs.mkdir(workerEnv['DATA_DIR']!, { recursive: true });

      apiProcess = run(compose.services['api']!.command!, apiEnv);
      url = (await apiProcess.waitFor(/listening on (http:\/\/\S+)/))[1]!;
      workerProcess = run(compose.services['worker']!.command!, workerEnv);
      await workerProcess.waitFor(/worker \S+ running/);
    });

    afterAll(async () => {
      await workerProcess?.stop();
      await apiProcess?.stop();
      await s3?.stop();
      await database?.drop();
      if (dir) await fs.rm(dir, { recursive: true, force: true });
    });

    it("answers the api service's own healthcheck", async () => {
      const [command, ...args] = compose.services['api']!.healthcheck!.test!.slice(1);
      expect(command).toBe('node');
      const result = await runToEnd(process.execPath, args, apiEnv);
      expect(result.code).toBe(0);
      expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ status: 'ok' });
    });

    it('imports through the management API and the separate worker makes the stream ready', async () => {
      const file = await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 6 });
      // What `docker compose exec api notetaker-stream import …` does; stdout is piped, so it is JSON only.
      const imported = await runToEnd(process.execPath, [CLI, 'import', file, '--owner', 'alice'], apiEnv);
      expect(imported.stderr).toBe('');
      expect(imported.code).toBe(0);
      const video = JSON.parse(imported.stdout) as { id: string; upload_status: string };
      expect(video.upload_status).toBe('complete');

      const token = await mintUserToken({
        secret: DOT_ENV['AUTH_JWT_SECRET']!,
        sub: 'alice',
        ttlSeconds: 600,
      });
      const alice = api({ url }, token);
      const first = await alice(`/api/videos/${video.id}/stream`);
      expect(first.status).toBe(202);
      const { status, body } = await waitForStream(alice, video.id);
      expect(status).toBe(200);
      expect(body['status']).toBe('ready');

      // The playlist answers with segments presigned on the bucket, which serves them.
      const playlist = await fetch(body['hls_url'] as string);
      expect(playlist.status).toBe(200);
      const segment = (await playlist.text()).split('\n').find((line) => line.startsWith('http'));
      expect(segment?.startsWith(s3.endpoint)).toBe(true);
      expect((await fetch(segment!)).status).toBe(200);

      // The worker process generated it; the API process (serve --no-worker) did not.
      const succeeded = (line: string) => line.includes('"generation succeeded"') && line.includes(video.id);
      expect(workerProcess.output().split('\n').some(succeeded)).toBe(true);
      expect(apiProcess.output().split('\n').some(succeeded)).toBe(false);
    });
  });
});
