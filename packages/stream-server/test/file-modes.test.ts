import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type RunningServer } from '../src/server/start-server.js';
import { makeTestMedia } from './helpers/media.js';
import { waitFor } from './helpers/processes.js';
import { api, waitForStream } from './helpers/test-server.js';

/** Every folder and file under `root` (itself included) whose mode lets group or others in. */
async function openToOthers(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (file: string) => {
    const stat = await fs.lstat(file);
    if (!stat.isSymbolicLink() && (stat.mode & 0o077) !== 0) {
      found.push(`${path.relative(root, file) || '.'} ${(stat.mode & 0o777).toString(8)}`);
    }
    if (stat.isDirectory()) {
      for (const name of await fs.readdir(file)) await visit(path.join(file, name));
    }
  };
  await visit(root);
  return found;
}

describe('files of an embedded server', () => {
  let root: string;
  let dataDir: string;
  let server: RunningServer | undefined;
  let previousUmask: number;

  beforeAll(async () => {
    previousUmask = process.umask();
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-modes-'));
    // A data folder that exists already, readable by everyone, as `mkdir` makes it under the usual umask 022.
    dataDir = path.join(root, 'data');
    await fs.mkdir(dataDir, { mode: 0o755 });
    await fs.chmod(dataDir, 0o755);
  });

  afterAll(async () => {
    await server?.stop();
    process.umask(previousUmask);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('are private: DATA_DIR 0700, and no database file, source, segment or poster open to other users', async () => {
    process.umask(0o022);
    // A fresh database (no seeded template): PGlite's own files are made by this server.
    server = await startServer({ env: { DATA_DIR: dataDir, PORT: '0' }, logger: 'silent' });
    expect((await fs.stat(dataDir)).mode & 0o777).toBe(0o700);

    const file = await makeTestMedia(root, 'h264-aac-faststart', { seconds: 2 });
    const bytes = await fs.readFile(file);
    const alice = api(server, await server.mintUserToken('alice'));
    const created = await alice('/api/videos', {
      method: 'POST',
      body: JSON.stringify({ title: 'Private', content_type: 'video/mp4', size_bytes: bytes.length }),
    });
    expect(created.status).toBe(201);
    const { video, upload } = (await created.json()) as {
      video: { id: string };
      upload: { method: string; url: string; headers?: Record<string, string> };
    };
    expect(upload.method).toBe('PUT');
    const put = await fetch(upload.url, { method: 'PUT', body: bytes, headers: upload.headers });
    expect(put.status).toBe(200);
    const completed = await alice(`/api/videos/${video.id}/upload/complete`, { method: 'POST', body: '{}' });
    expect(completed.status).toBe(200);
    await alice(`/api/videos/${video.id}/stream`);
    expect((await waitForStream(alice, video.id)).body['status']).toBe('ready');
    // The poster and storyboard task writes too.
    const running = server;
    await waitFor('the poster', async () => {
      const row = await running.database.db
        .selectFrom('videos')
        .select('poster_key')
        .where('id', '=', video.id)
        .executeTakeFirst();
      return row?.poster_key ?? undefined;
    });

    const objects = await fs.readdir(path.join(dataDir, 'objects'), { recursive: true });
    expect(objects.some((name) => name.endsWith('.ts'))).toBe(true);
    expect(await openToOthers(dataDir)).toEqual([]);
  }, 180_000);
});
