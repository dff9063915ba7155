import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startTestServer, VARIANTS, type TestServer } from './helpers/test-server.js';

interface Page {
  videos: Array<{ id: string; owner_id: string; created_at: string }>;
  next_cursor: string | null;
}

describe.each(VARIANTS)('paged video lists (%s)', (variant) => {
  let server: TestServer;
  let manage: ReturnType<typeof api>;
  let alice: ReturnType<typeof api>;

  const register = async (ownerId: string, title: string): Promise<string> => {
    const response = await manage('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: ownerId, title, size_bytes: 1000 }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { video: { id: string } }).video.id;
  };

  /** Every page of a list route, following next_cursor. */
  const allPages = async (call: ReturnType<typeof api>, route: string, limit: number): Promise<Page[]> => {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const separator = route.includes('?') ? '&' : '?';
      const response = await call(
        `${route}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(response.status).toBe(200);
      const page = (await response.json()) as Page;
      pages.push(page);
      cursor = page.next_cursor;
    } while (cursor);
    return pages;
  };

  beforeAll(async () => {
    server = await startTestServer(variant);
    manage = api(server, server.serviceApiKey);
    alice = api(server, await server.mintUserToken('alice'));
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it('pages through every video newest first, each once, with next_cursor null on the last page', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i += 1) ids.push(await register('alice', `a${i}`));
    await register('bob', 'b0');
    const pages = await allPages(alice, '/api/videos', 3);
    expect(pages.map((page) => page.videos.length)).toEqual([3, 3, 1]);
    expect(pages.at(-1)!.next_cursor).toBeNull();
    const seen = pages.flatMap((page) => page.videos);
    expect(seen.map((video) => video.id)).toEqual([...ids].reverse());
    expect(seen.every((video) => video.owner_id === 'alice')).toBe(true);
  });

  it('stays stable under inserts: videos added while paging never shift or repeat the pages that follow', async () => {
    const before = (await allPages(alice, '/api/videos', 200)).flatMap((page) =>
      page.videos.map((v) => v.id),
    );
    const first = (await (await alice('/api/videos?limit=3')).json()) as Page;
    const added = [await register('alice', 'new 1'), await register('alice', 'new 2')];
    let cursor = first.next_cursor;
    const rest: string[] = [];
    while (cursor) {
      const page = (await (
        await alice(`/api/videos?limit=3&cursor=${encodeURIComponent(cursor)}`)
      ).json()) as Page;
      rest.push(...page.videos.map((video) => video.id));
      cursor = page.next_cursor;
    }
    expect([...first.videos.map((video) => video.id), ...rest]).toEqual(before);
    // A fresh walk starts with the new ones.
    const fresh = (await (await alice('/api/videos?limit=2')).json()) as Page;
    expect(fresh.videos.map((video) => video.id)).toEqual([...added].reverse());
  });

  it('orders videos created in the same instant (or microseconds apart) by id, and loses none', async () => {
    const ids = [await register('carol', 'c0'), await register('carol', 'c1'), await register('carol', 'c2')];
    const more = [await register('carol', 'c3'), await register('carol', 'c4')];
    const db = server.database.db;
    await db
      .updateTable('videos')
      .set({ created_at: sql`'2026-01-01T00:00:00.000001Z'::timestamptz` as never })
      .where('id', 'in', ids)
      .execute();
    await db
      .updateTable('videos')
      .set({ created_at: sql`'2026-01-01T00:00:00.000002Z'::timestamptz` as never })
      .where('id', 'in', more)
      .execute();
    const carol = api(server, await server.mintUserToken('carol'));
    const seen = (await allPages(carol, '/api/videos', 1)).flatMap((page) => page.videos.map((v) => v.id));
    expect(seen).toEqual([...[...more].sort().reverse(), ...[...ids].sort().reverse()]);
  });

  it('lists every owner through the management API when owner_id is omitted, and one owner with it', async () => {
    const everyone = (await allPages(manage, '/api/manage/videos', 4)).flatMap((page) => page.videos);
    expect(new Set(everyone.map((video) => video.owner_id))).toEqual(new Set(['alice', 'bob', 'carol']));
    expect(new Set(everyone.map((video) => video.id)).size).toBe(everyone.length);
    const bobs = (await allPages(manage, '/api/manage/videos?owner_id=bob', 4)).flatMap(
      (page) => page.videos,
    );
    expect(bobs.map((video) => video.owner_id)).toEqual(['bob']);
  });

  it('defaults to 50 a page and refuses a bad limit or cursor with 400', async () => {
    for (let i = 0; i < 45; i += 1) await register('dave', `d${i}`);
    const dave = api(server, await server.mintUserToken('dave'));
    const page = (await (await dave('/api/videos')).json()) as Page;
    expect(page.videos).toHaveLength(45);
    expect(page.next_cursor).toBeNull();
    const all = (await (await manage('/api/manage/videos')).json()) as Page;
    expect(all.videos).toHaveLength(50);
    expect(all.next_cursor).not.toBeNull();
    for (const query of ['limit=0', 'limit=201', 'limit=abc', 'cursor=nonsense', 'cursor=eyJ0IjoxfQ']) {
      const response = await alice(`/api/videos?${query}`);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'bad_request' } });
    }
    expect((await manage('/api/manage/videos?limit=500')).status).toBe(400);
  });
});
