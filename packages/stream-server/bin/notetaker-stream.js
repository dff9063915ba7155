#!/usr/bin/env node
// The `notetaker-stream` command. This file is committed, so npm links the command on the very first install, before
// the build has written dist/; the command itself is dist/cli.js.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'notetaker-stream: not built yet; run `npm run build` at the repository root first.\n',
  );
  process.exit(1);
}
await import(cli.href);
