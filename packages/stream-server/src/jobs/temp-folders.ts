import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { Logger } from 'pino';

/** Where workers keep their temp folders: `<DATA_DIR>/tmp/generation`. */
export function tempParent(dataDir: string): string {
  return path.join(dataDir, 'tmp', 'generation');
}

/** This process's own temp folder, named `<hostname>-<pid>` so a later sweep can tell whether its owner is alive. */
export function processTempRoot(dataDir: string): string {
  return path.join(tempParent(dataDir), `${os.hostname()}-${process.pid}`);
}

/**
 * Removes the temp folders of worker processes on this host that are no longer alive (a worker killed with
 * SIGKILL cannot clean up after itself). Folders are named `<hostname>-<pid>`.
 */
export async function removeOrphanedTempDirs(parent: string, logger: Logger): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return 0;
  }
  const host = os.hostname();
  let removed = 0;
  for (const name of names) {
    const match = /^(.*)-(\d+)$/.exec(name);
    if (!match || match[1] !== host) continue;
    const pid = Number(match[2]);
    if (pid === process.pid || isAlive(pid)) continue;
    await fs.rm(path.join(parent, name), { recursive: true, force: true });
    removed += 1;
  }
  if (removed > 0) logger.info({ removed }, 'removed temp folders of dead workers');
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
