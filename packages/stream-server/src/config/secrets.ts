import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** Secrets the service needs; taken from the config when set, else kept in `<DATA_DIR>/secrets.json`. */
export interface Secrets {
  jwtSecret: string;
  serviceApiKey: string;
  playbackSecret: string;
  storageSecret: string;
}

/**
 * Loads the secrets the configuration does not give, creating them (once, mode 0600) in the data folder. This is
 * what lets `npm start` run with no configuration, and lets `notetaker-stream token` mint tokens the server accepts.
 */
export async function loadOrCreateSecrets(
  dataDir: string,
  given: Partial<Record<keyof Secrets, string | undefined>>,
): Promise<Secrets> {
  const file = path.join(dataDir, 'secrets.json');
  let stored: Partial<Secrets> = {};
  let existed = true;
  try {
    stored = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Secrets>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`Cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    existed = false;
  }
  const generate = () => randomBytes(32).toString('base64url');
  const merged: Secrets = {
    jwtSecret: stored.jwtSecret ?? generate(),
    serviceApiKey: stored.serviceApiKey ?? generate(),
    playbackSecret: stored.playbackSecret ?? generate(),
    storageSecret: stored.storageSecret ?? generate(),
  };
  const changed = (Object.keys(merged) as Array<keyof Secrets>).some((k) => stored[k] !== merged[k]);
  if (changed) {
    await ensurePrivateDir(dataDir);
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(merged, null, 2), { mode: 0o600 });
    if (existed) {
      await fs.rename(tmp, file);
    } else {
      try {
        // Another process may have created the file meanwhile: link fails then, and we read theirs.
        await fs.link(tmp, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        await fs.unlink(tmp);
        return loadOrCreateSecrets(dataDir, given);
      }
      await fs.unlink(tmp);
    }
  }
  return {
    jwtSecret: given.jwtSecret ?? merged.jwtSecret,
    serviceApiKey: given.serviceApiKey ?? merged.serviceApiKey,
    playbackSecret: given.playbackSecret ?? merged.playbackSecret,
    storageSecret: given.storageSecret ?? merged.storageSecret,
  };
}

/**
 * Makes files this process creates from now on private to its user (umask 0o077: 0600 files, 0700 folders), so
 * that the embedded database, sources and segments are neither readable nor writable by other users of the
 * machine. Child processes (ffmpeg) inherit it. Returns the previous mask, or `undefined` where a mask cannot be
 * set (a worker thread).
 */
export function usePrivateUmask(): number | undefined {
  try {
    return process.umask(0o077);
  } catch {
    return undefined;
  }
}

/**
 * Creates `dir` (and missing parents) as 0700, and takes group and other access away from it when it already
 * exists with looser modes (a data folder made by an older version, or by hand): everything beneath it is then
 * out of other users' reach, whatever the files' own modes. Returns `false` when the folder is not this user's to
 * change (it is left as it is).
 */
export async function ensurePrivateDir(dir: string): Promise<boolean> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const { mode } = await fs.stat(dir);
  if ((mode & 0o077) === 0) return true;
  try {
    await fs.chmod(dir, mode & 0o700);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EPERM') return false;
    throw error;
  }
}

/**
 * Reads the secrets a server keeps in `<dataDir>/secrets.json` without creating anything: `null` when the file
 * does not exist (no server has run with this data folder). For commands that only talk to a running server.
 */
export async function readStoredSecrets(dataDir: string): Promise<Partial<Secrets> | null> {
  const file = path.join(dataDir, 'secrets.json');
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Secrets>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}
