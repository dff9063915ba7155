import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PGlitePool } from '../src/db/pglite-pool.js';
import { makeTestMedia } from './helpers/media.js';
import { api, startTestServer, waitForStream, type TestServer } from './helpers/test-server.js';

describe("the embedded database's write count", () => {
  let pool: PGlitePool;
  let db: Kysely<Record<string, { id: number; n: number }>>;

  beforeAll(async () => {
    pool = new PGlitePool(await PGlite.create());
    db = new Kysely({ dialect: new PostgresDialect({ pool }) });
    await sql`create table t (id int primary key, n int not null)`.execute(db);
    await sql`insert into t values (1, 0)`.execute(db);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('stands still while statements only read, and moves with every statement that may write', async () => {
    const start = pool.writeCount;
    await db.selectFrom('t').selectAll().execute();
    await sql`select n from t where id = 1 for update`.execute(db);
    expect(pool.writeCount).toBe(start);

    await db.updateTable('t').set({ n: 1 }).where('id', '=', 1).execute();
    const afterUpdate = pool.writeCount;
    expect(afterUpdate).toBeGreaterThan(start);

    // An update that matches nothing, a failed statement and a rolled-back transaction count too: the count says
    // "may have changed", never "did not change" when it did.
    await db.updateTable('t').set({ n: 2 }).where('id', '=', 99).execute();
    const afterNoop = pool.writeCount;
    expect(afterNoop).toBeGreaterThan(afterUpdate);
    await expect(sql`insert into t values (1, 0)`.execute(db)).rejects.toThrow(/duplicate key/);
    const afterFailure = pool.writeCount;
    expect(afterFailure).toBeGreaterThan(afterNoop);
    await db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable('t').set({ n: 3 }).where('id', '=', 1).execute();
        throw new Error('roll back');
      })
      .catch(() => {});
    expect(pool.writeCount).toBeGreaterThan(afterFailure);
    expect((await db.selectFrom('t').select('n').executeTakeFirstOrThrow()).n).toBe(1);
  });
});

describe('/stream on the embedded database reads unchanged rows from memory, never stale ones', () => {
  let server: TestServer;
  let mediaDir: string;
  let alice: ReturnType<typeof api>;
  let id: string;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-row-cache-'));
    server = await startTestServer('embedded');
    alice = api(server, await server.mintUserToken('alice'));
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 });
    ({ id } = await server.importVideo(file, { ownerId: 'alice' }));
    await alice(`/api/videos/${id}/stream`);
    expect((await waitForStream(alice, id)).body['status']).toBe('ready');
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('answers each change made through the API at once: chapters, their removal, the deletion', async () => {
    const stream = async () => {
      const response = await alice(`/api/videos/${id}/stream`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    // Answered twice with nothing in between: the second from memory.
    expect((await stream()).body).not.toHaveProperty('chapters_url');
    expect((await stream()).body).not.toHaveProperty('chapters_url');

    const chapters = { chapters: [{ start_seconds: 0, title: 'All of it' }] };
    const put = await alice(`/api/videos/${id}/chapters`, {
      method: 'PUT',
      body: JSON.stringify(chapters),
      headers: { 'content-type': 'application/json' },
    });
    expect(put.status).toBe(200);
    expect((await stream()).body).toHaveProperty('chapters_url');

    expect((await alice(`/api/videos/${id}/chapters`, { method: 'DELETE' })).status).toBe(204);
    expect((await stream()).body).not.toHaveProperty('chapters_url');

    const manage = api(server, server.serviceApiKey);
    expect((await manage(`/api/manage/videos/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await stream()).status).toBe(404);
  });
});
