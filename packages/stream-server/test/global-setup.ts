import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { TestProject } from 'vitest/node';

import { createDatabase, migrateToLatest } from '../src/db/create-database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated PGlite data folder that embedded test servers copy instead of running initdb each time. */
    pgliteTemplate: string;
  }
}

/**
 * Runs once before all test files: prepares a migrated PGlite data folder. Creating a fresh PGlite database runs
 * initdb (seconds, and far longer on a busy machine); copying a prepared folder takes milliseconds.
 */
export default async function setup(project: TestProject) {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-pglite-template-'));
  const dataDir = path.join(root, 'pglite');
  const database = await createDatabase({ kind: 'pglite', dataDir });
  await migrateToLatest(database.db);
  await database.close();
  project.provide('pgliteTemplate', dataDir);
  return async () => {
    await fs.rm(root, { recursive: true, force: true });
  };
}
