#!/usr/bin/env node
// Runs web-test-runner with the arguments given (e.g. `run-browser-tests --config web-test-runner.config.mjs`).
//
// A test file whose WebKit page hung (WebKitGTK's media pipeline deadlocked in a call from the page; see
// `WebKitLauncher` in web-test-runner-engines.mjs) is run again, alone, in that engine: up to twice more while it
// hangs, and the run passes only if such a run passes. Any other failure fails the run as it is, with nothing run
// again. The config must list `browserRunReporter()` among its reporters.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** How many more times a file whose page hung is run while it keeps hanging. */
const MAX_RUNS_AFTER_HANG = 2;

const args = process.argv.slice(2);
const dir = mkdtempSync(path.join(os.tmpdir(), 'notetaker-browser-run-'));

/** The arguments without the files they name (`--files a b`, `--files=a`), for a run of one file. */
function withoutFiles(list) {
  const kept = [];
  for (let i = 0; i < list.length; i++) {
    if (list[i] === '--files') while (i + 1 < list.length && !list[i + 1].startsWith('-')) i++;
    else if (!list[i].startsWith('--files=')) kept.push(list[i]);
  }
  return kept;
}

/** Runs web-test-runner with `runArgs`; returns its exit status and the failed files its reporter wrote. */
function run(runArgs, env = {}) {
  const report = path.join(dir, `report-${Date.now()}.json`);
  const result = spawnSync('web-test-runner', runArgs, {
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

/** Whether every failure of a run was a hung page (and there was one). */
const onlyHangs = (failed) => Boolean(failed?.length) && failed.every((failure) => failure.hung);

let status;
try {
  const first = run(args);
  status = first.status;
  if (status !== 0 && onlyHangs(first.failed)) {
    status = 0;
    for (const { engine, testFile } of first.failed) {
      const file = path.relative(process.cwd(), testFile);
      let again;
      for (let attempt = 1; attempt <= MAX_RUNS_AFTER_HANG; attempt++) {
        console.log(`\nrun-browser-tests: ${file} hung in ${engine} (see above); running it again, alone.\n`);
        again = run([...withoutFiles(args), '--files', file], { NOTETAKER_ENGINES: engine });
        if (again.status === 0 || !onlyHangs(again.failed)) break;
      }
      if (again.status !== 0) status = again.status;
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
