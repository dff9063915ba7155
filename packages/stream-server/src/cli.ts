#!/usr/bin/env node
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { createManagementClient, isStreamError, type ManagementClient } from '@notetaker/client-sdk/server';

import { createProgressBar } from './cli/progress-bar.js';
import { uploadFile } from './cli/upload-file.js';
import { ConfigError, loadConfig, type Config } from './config/load-config.js';
import { loadOrCreateSecrets } from './config/secrets.js';
import { mintUserToken } from './auth/user-tokens.js';
import { createDatabase, migrateToLatest } from './db/create-database.js';
import { startServer } from './server/start-server.js';

const USAGE = `Usage: notetaker-stream <command> [options]

Commands:
  serve [--no-worker]                      Run the API (and, by default, a generation worker)
  worker                                   Run a generation worker only
  migrate                                  Bring the database schema up to date
  import <file> --owner <user-id> [--title <title>] [--server <url>]
                                           Upload a file to a running server and register it; prints JSON
                                           (with a progress bar on stderr when it is a terminal)
  retry <video-id> [--server <url>]        Restart generation of a failed video (operator retry)
  token --sub <user-id> [--ttl <seconds|30m|12h|7d>]
                                           Print a user token the server accepts

Configuration comes from the environment (DATA_DIR, PORT, HOST, DATABASE_URL, S3_*, …): see docs/configuration.md.`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest, true);
    case 'worker':
      return serve(rest, false);
    case 'migrate':
      return migrate(rest);
    case 'import':
      return importFile(rest);
    case 'token':
      return token(rest);
    case 'retry':
      return retry(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function serve(args: string[], api: boolean): Promise<number> {
  const { values } = parseArgs({ args, options: { 'no-worker': { type: 'boolean' } }, strict: true });
  const env = { ...process.env };
  if (values['no-worker']) env['WORKER'] = 'false';
  if (!api) env['WORKER'] = 'true';
  const server = await startServer({ env, api });
  if (api) process.stdout.write(`Notetaker Stream listening on ${server.url}\n`);
  else process.stdout.write(`Notetaker Stream worker ${server.worker?.workerId} running\n`);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      process.stdout.write(`Received ${signal}: shutting down…\n`);
      server.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}

async function migrate(args: string[]): Promise<number> {
  parseArgs({ args, options: {}, strict: true });
  const config = loadConfig(process.env);
  const database = await createDatabase(config.database);
  try {
    const applied = await migrateToLatest(database.db);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date\n');
  } finally {
    await database.close();
  }
  return 0;
}

function serverUrl(config: Config, given: string | undefined): string {
  if (given) return given.replace(/\/+$/, '');
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host}:${config.port}`;
}

async function importFile(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { owner: { type: 'string' }, title: { type: 'string' }, server: { type: 'string' } },
    strict: true,
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('import needs exactly one file');
  if (!values.owner) throw new UsageError('import needs --owner <user-id>');
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile()) throw new UsageError(`no such file: ${file}`);
  const { manage } = await managementClient(values.server);
  // A progress bar for people watching a terminal; piped stdout stays one JSON document.
  const bar = process.stderr.isTTY
    ? createProgressBar({ stream: process.stderr, total: stat.size, label: path.basename(file) })
    : undefined;
  let video;
  try {
    video = await uploadFile({
      manage,
      filePath: file,
      register: {
        owner_id: values.owner!,
        title: values.title ?? path.basename(file),
        content_type: contentTypeOf(file),
      },
      onProgress: (bytes) => bar?.update(bytes),
    });
  } catch (error) {
    // The uploader has retried and resumed already: what is left is final, from the server or from storage.
    if (!isStreamError(error)) throw error;
    throw new Error(
      error.name === 'StreamNetworkError'
        ? `cannot reach the server or its storage (is \`npm start\` running?): ${causeOf(error)}`
        : `upload refused: HTTP ${error.status} ${error.code}: ${error.message}`,
    );
  }
  bar?.finish();
  process.stdout.write(`${JSON.stringify(video)}\n`);
  return 0;
}

async function retry(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { server: { type: 'string' } },
    strict: true,
  });
  const id = positionals[0];
  if (!id || positionals.length > 1) throw new UsageError('retry needs exactly one video id');
  const { manage, api } = await managementClient(values.server);
  const answer = await api(() => manage.retryStream(id));
  process.stdout.write(`${JSON.stringify(answer)}\n`);
  return 0;
}

/**
 * The SDK's management client for the running server, with the service key from the configuration or the data
 * folder, and `api`, which runs one of its calls and words its failure for a person at a terminal.
 */
async function managementClient(server: string | undefined): Promise<{
  manage: ManagementClient;
  api: <T>(call: () => Promise<T>) => Promise<T>;
}> {
  const config = loadConfig(process.env);
  const secrets = await loadOrCreateSecrets(config.dataDir, { serviceApiKey: config.auth.serviceApiKey });
  const base = serverUrl(config, server);
  const manage = createManagementClient({ baseUrl: base, apiKey: secrets.serviceApiKey });
  const api = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (!isStreamError(error)) throw error;
      if (error.name === 'StreamNetworkError') {
        throw new Error(`cannot reach the server at ${base} (is \`npm start\` running?): ${causeOf(error)}`);
      }
      throw new Error(`the server refused: ${error.message}`);
    }
  };
  return { manage, api };
}

/** What a network error came from: `fetch failed (ECONNREFUSED)` rather than the SDK's generic wording. */
function causeOf(error: Error): string {
  const cause = error.cause as (Error & { cause?: { code?: string } }) | undefined;
  if (!cause) return error.message;
  const code = cause.cause?.code;
  return code && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
}

function contentTypeOf(file: string): string {
  const ext = path.extname(file).toLowerCase();
  const types: Record<string, string> = {
    '.mp4': 'video/mp4',
    '.m4v': 'video/mp4',
    '.mov': 'video/quicktime',
    '.webm': 'video/webm',
    '.mkv': 'video/x-matroska',
    '.m4a': 'audio/mp4',
    '.mp3': 'audio/mpeg',
  };
  return types[ext] ?? 'application/octet-stream';
}

function parseTtl(value: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new UsageError(`--ttl must look like 3600, 30m, 12h or 7d (got "${value}")`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0 || seconds > 366 * 86400)
    throw new UsageError('--ttl must be between 1 second and 366 days');
  return seconds;
}

async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { sub: { type: 'string' }, ttl: { type: 'string' } },
    strict: true,
  });
  if (!values.sub) throw new UsageError('token needs --sub <user-id>');
  const config = loadConfig(process.env);
  if (config.auth.jwksUrl) {
    throw new UsageError(
      'this server verifies RS256 tokens from AUTH_JWKS_URL: mint tokens with your identity provider',
    );
  }
  const secrets = await loadOrCreateSecrets(config.dataDir, { jwtSecret: config.auth.jwtSecret });
  const jwt = await mintUserToken({
    secret: secrets.jwtSecret,
    sub: values.sub,
    ttlSeconds: parseTtl(values.ttl ?? '12h'),
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });
  process.stdout.write(`${jwt}\n`);
  return 0;
}

/**
 * A start-up failure in one line: its message and its code (`ENOSPC`, `EACCES`, `ECONNREFUSED`…). Things thrown
 * that are not `Error`s (a library's plain objects) are shown by their fields, never as `[object Object]`.
 */
function describeError(error: unknown): string {
  const { message, code, errno, name } = (typeof error === 'object' && error !== null ? error : {}) as {
    message?: unknown;
    code?: unknown;
    errno?: unknown;
    name?: unknown;
  };
  const tag = typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
  if (typeof message === 'string' && message !== '') {
    return tag && !message.includes(tag) ? `${message} (${tag})` : message;
  }
  if (typeof error === 'object' && error !== null) {
    const fields = [name, tag, errno === undefined ? undefined : `errno ${String(errno)}`].filter(Boolean);
    let json: string | undefined;
    try {
      json = JSON.stringify(error);
    } catch {
      json = undefined;
    }
    return fields.length > 0 ? fields.join(', ') : (json ?? 'unknown error');
  }
  return String(error);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`notetaker-stream: ${error.message}\n`);
      process.exitCode = 2;
    } else if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(
        `notetaker-stream: ${(error as Error).message}\nRun "notetaker-stream help" for usage.\n`,
      );
      process.exitCode = 2;
    } else {
      process.stderr.write(`notetaker-stream: ${describeError(error)}\n`);
      process.exitCode = 1;
    }
  },
);
