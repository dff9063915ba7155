// What a product integrates against: a video's external_id (the host's own id, unique per owner) and metadata (a JSON
// object of the host's), set at registration, import and by PATCH of both APIs, and the list filters that find videos
// by them (`external_id`, `q`) — on PGlite with local storage and on PostgreSQL with S3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { api, startTestServer, VARIANTS, type TestServer } from './helpers/test-server.js';

interface VideoBody {
  id: string;
  owner_id: string;
  title: string | null;
  external_id: string | null;
  metadata: Record<string, unknown>;
}

interface Page {
  videos: VideoBody[];
  next_cursor: string | null;
}

const json = (body: unknown): RequestInit => ({ body: JSON.stringify(body) });
const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string } }).error;

describe.each(VARIANTS)('video external ids, metadata and search (%s)', (variant) => {
  let server: TestServer;
  let manage: ReturnType<typeof api>;
  let alice: ReturnType<typeof api>;
  let bob: ReturnType<typeof api>;

  const register = async (body: Record<string, unknown>): Promise<Response> =>
    manage('/api/manage/videos', { method: 'POST', ...json({ size_bytes: 1000, ...body }) });

  const registered = async (body: Record<string, unknown>): Promise<VideoBody> => {
    const response = await register(body);
    expect(response.status, JSON.stringify(await response.clone().json())).toBe(201);
    return ((await response.json()) as { video: VideoBody }).video;
  };

  const list = async (call: ReturnType<typeof api>, route: string): Promise<Page> => {
    const response = await call(route);
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Page;
  };

  beforeAll(async () => {
    server = await startTestServer(variant, { USER_UPLOADS: 'true' });
    manage = api(server, server.serviceApiKey);
    alice = api(server, await server.mintUserToken('alice'));
    bob = api(server, await server.mintUserToken('bob'));
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it('keeps the external_id and metadata given at registration, and answers them in every video', async () => {
    const metadata = {
      meeting_id: 'm-1',
      attendees: ['ana', 'bo'],
      nested: { ok: true, n: 1.5 },
      note: 'café ☕',
    };
    const video = await registered({ owner_id: 'alice', title: 'Kick-off', external_id: 'rec-1', metadata });
    expect(video).toMatchObject({ external_id: 'rec-1', metadata });
    expect(await (await manage(`/api/manage/videos/${video.id}`)).json()).toMatchObject({
      external_id: 'rec-1',
      metadata,
    });
    expect(await (await alice(`/api/videos/${video.id}`)).json()).toMatchObject({
      external_id: 'rec-1',
      metadata,
    });
    const plain = await registered({ owner_id: 'alice', title: 'No details' });
    expect(plain).toMatchObject({ external_id: null, metadata: {} });
  });

  it('finds a video by its external id, per owner with either API and across owners with the management API', async () => {
    const mine = await registered({ owner_id: 'alice', external_id: 'shared-7' });
    const theirs = await registered({ owner_id: 'bob', external_id: 'shared-7' });
    expect((await list(alice, '/api/videos?external_id=shared-7')).videos.map((v) => v.id)).toEqual([
      mine.id,
    ]);
    expect((await list(bob, '/api/videos?external_id=shared-7')).videos.map((v) => v.id)).toEqual([
      theirs.id,
    ]);
    expect(
      (await list(manage, '/api/manage/videos?owner_id=alice&external_id=shared-7')).videos.map((v) => v.id),
    ).toEqual([mine.id]);
    const everyOwner = await list(manage, '/api/manage/videos?external_id=shared-7');
    expect(everyOwner.videos.map((v) => v.id).sort()).toEqual([mine.id, theirs.id].sort());
    expect((await list(alice, '/api/videos?external_id=nobody-has-this')).videos).toEqual([]);
  });

  it("refuses an external id another of the owner's videos has (409), at registration, import and PATCH", async () => {
    const first = await registered({ owner_id: 'alice', external_id: 'unique-1' });
    const taken = await register({ owner_id: 'alice', external_id: 'unique-1' });
    expect(taken.status).toBe(409);
    expect((await errorOf(taken)).message).toMatch(/external_id "unique-1"/);

    const key = `imports/${variant}-unique.mp4`;
    await server.storage.putObject(key, Buffer.from('0000001866747970697336360000000069736f6d', 'hex'));
    const imported = await manage('/api/manage/videos/import', {
      method: 'POST',
      ...json({ owner_id: 'alice', source_key: key, external_id: 'unique-1' }),
    });
    expect(imported.status).toBe(409);
    expect((await errorOf(imported)).message).toMatch(/external_id/);

    const second = await registered({ owner_id: 'alice', external_id: 'unique-2' });
    const patched = await manage(`/api/manage/videos/${second.id}`, {
      method: 'PATCH',
      ...json({ external_id: 'unique-1' }),
    });
    expect(patched.status).toBe(409);
    // Nothing changed, and the first video still has its id.
    expect(((await (await manage(`/api/manage/videos/${second.id}`)).json()) as VideoBody).external_id).toBe(
      'unique-2',
    );
    expect((await list(alice, '/api/videos?external_id=unique-1')).videos.map((v) => v.id)).toEqual([
      first.id,
    ]);
  });

  it('changes title, external_id and metadata with PATCH, leaving the fields the body does not name', async () => {
    const video = await registered({
      owner_id: 'alice',
      title: 'Before',
      external_id: 'patch-1',
      metadata: { a: 1, b: 2 },
    });
    const patch = async (body: unknown) =>
      manage(`/api/manage/videos/${video.id}`, { method: 'PATCH', ...json(body) });

    let response = await patch({ title: 'After' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      title: 'After',
      external_id: 'patch-1',
      metadata: { a: 1, b: 2 },
    });

    // metadata replaces the whole object.
    response = await patch({ metadata: { c: 3 } });
    expect(await response.json()).toMatchObject({ title: 'After', metadata: { c: 3 } });
    expect(((await (await manage(`/api/manage/videos/${video.id}`)).json()) as VideoBody).metadata).toEqual({
      c: 3,
    });

    response = await patch({ title: null, external_id: null, metadata: null });
    expect(await response.json()).toMatchObject({ title: null, external_id: null, metadata: {} });
    // The freed id can be taken again.
    await registered({ owner_id: 'alice', external_id: 'patch-1' });
  });

  it('refuses bad metadata, external ids and PATCH bodies with a 400 that names the problem', async () => {
    const video = await registered({ owner_id: 'alice' });
    const patch = async (body: unknown) => {
      const response = await manage(`/api/manage/videos/${video.id}`, { method: 'PATCH', ...json(body) });
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      return (await errorOf(response)).message;
    };
    // 4 KB as JSON: 4,096 bytes pass, one more does not (counted in bytes, so é counts twice).
    const fitting = { t: 'x'.repeat(4096 - '{"t":""}'.length) };
    expect(
      (await manage(`/api/manage/videos/${video.id}`, { method: 'PATCH', ...json({ metadata: fitting }) }))
        .status,
    ).toBe(200);
    expect(await patch({ metadata: { t: 'x'.repeat(4097 - '{"t":""}'.length) } })).toMatch(
      /4097 bytes.*4096/,
    );
    expect(await patch({ metadata: { t: 'é'.repeat(2045) } })).toMatch(/at most 4096/);
    expect(await patch({ metadata: ['not', 'an', 'object'] })).toMatch(/metadata/);
    expect(await patch({ metadata: 'text' })).toMatch(/metadata/);
    expect(await patch({ metadata: { bad: 'nul\u0000inside' } })).toMatch(/NUL/);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 9; i += 1) deep = { d: deep };
    expect(await patch({ metadata: deep })).toMatch(/levels deep/);
    expect(await patch({ external_id: '' })).toMatch(/external_id/);
    expect(await patch({ external_id: 'x'.repeat(201) })).toMatch(/external_id/);
    expect(await patch({ external_id: 'line\nbreak' })).toMatch(/control characters/);
    expect(await patch({ title: 'x'.repeat(501) })).toMatch(/title/);
    expect(await patch({})).toMatch(/at least one of title, external_id, metadata/);
    expect(await patch({ owner_id: 'bob' })).toMatch(/owner_id/);
    expect((await register({ owner_id: 'alice', metadata: [1] })).status).toBe(400);
    expect(
      (
        await manage(`/api/manage/videos/00000000-0000-4000-8000-000000000000`, {
          method: 'PATCH',
          ...json({ title: 'x' }),
        })
      ).status,
    ).toBe(404);
  });

  it("lets a user register with details and PATCH their own video, never another's (a watch grant included)", async () => {
    const created = await alice('/api/videos', {
      method: 'POST',
      ...json({ title: 'Mine', size_bytes: 1000, external_id: 'user-1', metadata: { team: 'red' } }),
    });
    expect(created.status).toBe(201);
    const video = ((await created.json()) as { video: VideoBody }).video;
    expect(video).toMatchObject({ owner_id: 'alice', external_id: 'user-1', metadata: { team: 'red' } });

    const patched = await alice(`/api/videos/${video.id}`, {
      method: 'PATCH',
      ...json({ metadata: { team: 'blue' } }),
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ external_id: 'user-1', metadata: { team: 'blue' } });

    expect(
      (await bob(`/api/videos/${video.id}`, { method: 'PATCH', ...json({ title: 'Hijacked' }) })).status,
    ).toBe(404);
    const grantee = api(server, await server.mintUserToken('carol', 3600, [video.id]));
    expect(
      (await grantee(`/api/videos/${video.id}`, { method: 'PATCH', ...json({ title: 'Hijacked' }) })).status,
    ).toBe(404);
    expect(((await (await alice(`/api/videos/${video.id}`)).json()) as VideoBody).title).toBe('Mine');
  });

  it('searches titles with q, ignoring case, taking % and _ literally, and pages through the matches', async () => {
    const titles = ['Budget review Q3', 'budget REVIEW q4', 'Roadmap', '100% budget', 'snake_case budget'];
    const ids = new Map<string, string>();
    for (const title of titles) ids.set(title, (await registered({ owner_id: 'dana', title })).id);
    await registered({ owner_id: 'erin', title: 'Budget of another owner' });
    const dana = api(server, await server.mintUserToken('dana'));

    const matches = async (q: string) =>
      (await list(dana, `/api/videos?q=${encodeURIComponent(q)}`)).videos.map((v) => v.title);
    expect(await matches('BUDGET')).toEqual([
      'snake_case budget',
      '100% budget',
      'budget REVIEW q4',
      'Budget review Q3',
    ]);
    expect(await matches('review q')).toEqual(['budget REVIEW q4', 'Budget review Q3']);
    expect(await matches('100%')).toEqual(['100% budget']);
    expect(await matches('%')).toEqual(['100% budget']);
    expect(await matches('e_c')).toEqual(['snake_case budget']);
    expect(await matches('_')).toEqual(['snake_case budget']);
    expect(await matches('nothing like it')).toEqual([]);
    // A blank search is no search.
    expect(await matches('  ')).toHaveLength(titles.length);

    // Paging with a search: one match per page, each once, the cursor followed with the same q.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(
        dana,
        `/api/videos?q=budget&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.videos.length).toBeLessThanOrEqual(1);
      seen.push(...page.videos.map((v) => v.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(
      ['snake_case budget', '100% budget', 'budget REVIEW q4', 'Budget review Q3'].map((t) => ids.get(t)),
    );

    // The management list searches every owner, or one.
    const everyOwner = await list(manage, '/api/manage/videos?q=budget&limit=200');
    expect(everyOwner.videos.map((v) => v.owner_id).sort()).toEqual(['dana', 'dana', 'dana', 'dana', 'erin']);
    expect((await list(manage, '/api/manage/videos?owner_id=erin&q=BUDGET')).videos).toHaveLength(1);
    expect((await dana(`/api/videos?q=${'x'.repeat(201)}`)).status).toBe(400);
  });
});

describe('PATCH of a video when USER_UPLOADS is off', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer('embedded', { USER_UPLOADS: 'false' });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it('is refused to users with a 403 naming the setting, while the management API may', async () => {
    const manage = api(server, server.serviceApiKey);
    const created = await manage('/api/manage/videos', {
      method: 'POST',
      ...json({ owner_id: 'alice', size_bytes: 1000 }),
    });
    const video = ((await created.json()) as { video: VideoBody }).video;
    const alice = api(server, await server.mintUserToken('alice'));
    const denied = await alice(`/api/videos/${video.id}`, { method: 'PATCH', ...json({ title: 'x' }) });
    expect(denied.status).toBe(403);
    expect((await errorOf(denied)).message).toMatch(/USER_UPLOADS/);
    const allowed = await manage(`/api/manage/videos/${video.id}`, {
      method: 'PATCH',
      ...json({ external_id: 'host-1' }),
    });
    expect(allowed.status).toBe(200);
    expect(((await (await alice('/api/videos?external_id=host-1')).json()) as Page).videos).toHaveLength(1);
  });
});
