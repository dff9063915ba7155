#!/usr/bin/env node
// Runs web-test-runner with the arguments given (e.g. `run-browser-tests --config web-test-runner.config.mjs`).
//
// A test file whose WebKit page hung (WebKitGTK's media pipeline deadlocked in a call from the page; see
// `WebKitLauncher` in web-test-runner-engines.mjs) is run once more, alone, in that engine, and the run passes
// only if that run passes. Any other failure fails the run as it is, with nothing run again. The config must list
// `browserRunReporter()` among its reporters.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const dir = mkdtempSync(path.join(os.tmpdir(), 'notetaker-browser-run-'));

/** Runs web-test-runner; returns its exit status and the failed files its reporter wrote. */
function run(extraArgs, env = {}) {
  const report = path.join(dir, `report-${Date.now()}.json`);
  const result = spawnSync('web-test-runner', [...args, ...extraArgs], {
    stdio: 'inherit',
    env: { ...process.env, ...env, NOTETAKER_BROWSER_RUN_REPORT: report },
  });
  if (result.error) throw result.error;
  let failed;
  try {
    failed = JSON.parse(readFileSync(report, 'utf8')).failed;
  } catch {
    failed = undefined; // no report: the run stopped before its end
  }
  return { status: result.status ?? 1, failed };
}

let status;
try {
  const first = run([]);
  status = first.status;
  const hung = first.failed?.filter((file) => file.hung) ?? [];
  if (status !== 0 && hung.length > 0 && hung.length === first.failed.length) {
    status = 0;
    for (const { engine, testFile } of hung) {
      const file = path.relative(process.cwd(), testFile);
      console.log(
        `\nrun-browser-tests: ${file} in ${engine} hung (see above); running it once more, alone.\n`,
      );
      const again = run(['--files', file], { NOTETAKER_ENGINES: engine });
      if (again.status !== 0) status = again.status;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
