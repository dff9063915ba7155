#!/usr/bin/env node
// The `notetaker-stream` command: the command table and how its failures are reported. Each command lives in
// src/cli/commands/, listed in src/cli/commands/index.ts.
import { readFileSync } from 'node:fs';

import { UsageError } from './cli/command.js';
import { createCommands } from './cli/commands/index.js';
import { describeError } from './cli/describe-error.js';
import { runCli } from './cli/run-cli.js';
import { ConfigError } from './config/load-config.js';

const PROGRAM = 'notetaker-stream';

const COMMANDS = createCommands(async () => (await import('./server/start-server.js')).startServer);

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

runCli(process.argv.slice(2), {
  commands: COMMANDS,
  program: PROGRAM,
  version: version(),
  footer:
    'Configuration comes from the environment (DATA_DIR, PORT, HOST, DATABASE_URL, S3_*, …): see docs/configuration.md.',
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${PROGRAM}: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof UsageError) {
      const help = error.command ? `${PROGRAM} ${error.command} --help` : `${PROGRAM} help`;
      process.stderr.write(`${PROGRAM}: ${error.message} (see "${help}")\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${PROGRAM}: ${describeError(error)}\n`);
      process.exitCode = 1;
    }
  },
);
