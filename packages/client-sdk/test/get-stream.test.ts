import { HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { createStreamClient, isStreamError } from '../src/index.js';
import { BASE_URL, STREAM_URL, VIDEO_ID, useMockServer } from './mock-server.js';

const { server, requests } = useMockServer();
const client = () => createStreamClient({ baseUrl: BASE_URL, token: 'user-token' });
const READY = {
  status: 'ready',
  hls_url: 'https://cdn.test/p.m3u8?token=t',
  expires_at: '2030-01-01T00:00:00Z',
};

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('resolved'),
    (e: unknown) => e,
  );

describe('getStream', () => {
  it('returns a ready answer with hls_url and expires_at', async () => {
    server.use(http.get(STREAM_URL, () => HttpResponse.json(READY)));
    await expect(client().getStream(VIDEO_ID)).resolves.toEqual(READY);
  });

  it('returns a generating answer with retry_after and progress', async () => {
    server.use(
      http.get(STREAM_URL, () =>
        HttpResponse.json(
          { status: 'generating', retry_after: 2, progress: 0.25 },
          { status: 202, headers: { 'Retry-After': '2' } },
        ),
      ),
    );
    await expect(client().getStream(VIDEO_ID)).resolves.toEqual({
      status: 'generating',
      retry_after: 2,
      progress: 0.25,
    });
  });

  it('returns a playable generating answer with its hls_url', async () => {
    const body = { status: 'generating', retry_after: 2, hls_url: 'https://s.test/p.m3u8', playable: true };
    server.use(http.get(STREAM_URL, () => HttpResponse.json(body, { status: 202 })));
    await expect(client().getStream(VIDEO_ID)).resolves.toEqual(body);
  });

  it('takes retry_after from the Retry-After header when the body has none', async () => {
    server.use(
      http.get(STREAM_URL, () =>
        HttpResponse.json({ status: 'generating' }, { status: 202, headers: { 'Retry-After': '5' } }),
      ),
    );
    await expect(client().getStream(VIDEO_ID)).resolves.toEqual({ status: 'generating', retry_after: 5 });
  });

  it('defaults retry_after to 2 seconds when neither body nor header has it', async () => {
    server.use(http.get(STREAM_URL, () => HttpResponse.json({ status: 'generating' }, { status: 202 })));
    await expect(client().getStream(VIDEO_ID)).resolves.toEqual({ status: 'generating', retry_after: 2 });
  });

  it('returns a failed answer with error_message instead of throwing', async () => {
    const body = { status: 'failed', error_message: 'Source is not a readable video' };
    server.use(http.get(STREAM_URL, () => HttpResponse.json(body)));
    await expect(client().getStream(VIDEO_ID)).resolves.toEqual(body);
  });

  it('sends one GET with the bearer token and a JSON accept header', async () => {
    server.use(http.get(STREAM_URL, () => HttpResponse.json(READY)));
    await client().getStream(VIDEO_ID);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.method).toBe('GET');
    expect(requests[0]!.headers.get('authorization')).toBe('Bearer user-token');
    expect(requests[0]!.headers.get('accept')).toBe('application/json');
  });

  it('joins a base URL with a path prefix and trailing slash, and encodes the id', async () => {
    server.use(http.get(`${BASE_URL}/media/api/videos/a%2Fb/stream`, () => HttpResponse.json(READY)));
    const prefixed = createStreamClient({ baseUrl: `${BASE_URL}/media/`, token: 't' });
    await expect(prefixed.getStream('a/b')).resolves.toEqual(READY);
  });

  it('uses an injected fetch', async () => {
    const fetch = vi.fn(async () => Response.json(READY));
    const injected = createStreamClient({ baseUrl: BASE_URL, token: 't', fetch });
    await expect(injected.getStream(VIDEO_ID)).resolves.toEqual(READY);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(requests).toHaveLength(0);
  });

  it.each([
    [404, 'not_found', 'Video not found'],
    [409, 'upload_incomplete', 'The source was never uploaded'],
    [401, 'unauthorized', 'Invalid token'],
  ])('turns a %i answer into a StreamHttpError with the server code', async (status, code, message) => {
    server.use(http.get(STREAM_URL, () => HttpResponse.json({ error: { code, message } }, { status })));
    const error = await rejection(client().getStream(VIDEO_ID));
    expect(isStreamError(error)).toBe(true);
    expect(error).toMatchObject({ name: 'StreamHttpError', status, code, message });
  });

  it("carries the server's X-Request-Id as requestId, so a host can quote it", async () => {
    server.use(
      http.get(STREAM_URL, () =>
        HttpResponse.json(
          { error: { code: 'internal_error', message: 'Something went wrong on our side.' } },
          { status: 500, headers: { 'X-Request-Id': 'req-42' } },
        ),
      ),
    );
    const error = await rejection(client().getStream(VIDEO_ID));
    expect(error).toMatchObject({ name: 'StreamHttpError', status: 500, requestId: 'req-42' });
    server.use(http.get(STREAM_URL, () => HttpResponse.json({ error: { code: 'x' } }, { status: 404 })));
    expect(await rejection(client().getStream(VIDEO_ID))).toMatchObject({ requestId: undefined });
  });

  it('names the code after the status when an error body is not JSON', async () => {
    server.use(http.get(STREAM_URL, () => new HttpResponse('<html>Bad gateway</html>', { status: 502 })));
    await expect(client().getStream(VIDEO_ID)).rejects.toMatchObject({
      name: 'StreamHttpError',
      status: 502,
      code: 'http_502',
    });
  });

  it('rejects an unexpected 200 body with code invalid_response', async () => {
    server.use(http.get(STREAM_URL, () => HttpResponse.text('<html>captive portal</html>')));
    await expect(client().getStream(VIDEO_ID)).rejects.toMatchObject({
      name: 'StreamHttpError',
      status: 200,
      code: 'invalid_response',
    });
  });

  it('turns a failed connection into a StreamNetworkError carrying the cause', async () => {
    server.use(http.get(STREAM_URL, () => HttpResponse.error()));
    const error = await rejection(client().getStream(VIDEO_ID));
    expect(error).toMatchObject({ name: 'StreamNetworkError', code: 'network_error', status: undefined });
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('rejects with the signal reason when aborted before the request, sending nothing', async () => {
    server.use(http.get(STREAM_URL, () => HttpResponse.json(READY)));
    const reason = new Error('gone');
    await expect(client().getStream(VIDEO_ID, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(requests).toHaveLength(0);
  });
});

describe('token provider', () => {
  it('asks the provider before each request and accepts an async answer', async () => {
    server.use(http.get(STREAM_URL, () => HttpResponse.json(READY)));
    const getToken = vi.fn(async () => 'async-token');
    const c = createStreamClient({ baseUrl: BASE_URL, getToken });
    await c.getStream(VIDEO_ID);
    await c.getStream(VIDEO_ID);
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(getToken).toHaveBeenCalledWith({ refresh: false });
    expect(requests.map((r) => r.headers.get('authorization'))).toEqual([
      'Bearer async-token',
      'Bearer async-token',
    ]);
  });

  it('refreshes the token once after a 401 and repeats the request', async () => {
    server.use(
      http.get(STREAM_URL, ({ request }) =>
        request.headers.get('authorization') === 'Bearer fresh'
          ? HttpResponse.json(READY)
          : HttpResponse.json({ error: { code: 'unauthorized', message: 'expired' } }, { status: 401 }),
      ),
    );
    const getToken = vi.fn(async ({ refresh }: { refresh: boolean }) => (refresh ? 'fresh' : 'stale'));
    await expect(createStreamClient({ baseUrl: BASE_URL, getToken }).getStream(VIDEO_ID)).resolves.toEqual(
      READY,
    );
    expect(getToken.mock.calls).toEqual([[{ refresh: false }], [{ refresh: true }]]);
    expect(requests).toHaveLength(2);
  });

  it('rejects on a second 401 after calling the provider exactly twice', async () => {
    server.use(
      http.get(STREAM_URL, () =>
        HttpResponse.json({ error: { code: 'unauthorized', message: 'bad token' } }, { status: 401 }),
      ),
    );
    const getToken = vi.fn(() => 'always-bad');
    await expect(
      createStreamClient({ baseUrl: BASE_URL, getToken }).getStream(VIDEO_ID),
    ).rejects.toMatchObject({
      name: 'StreamHttpError',
      status: 401,
      code: 'unauthorized',
    });
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(requests).toHaveLength(2);
  });

  it('does not repeat a 401 request when the token is a fixed string', async () => {
    server.use(
      http.get(STREAM_URL, () =>
        HttpResponse.json({ error: { code: 'unauthorized', message: 'bad token' } }, { status: 401 }),
      ),
    );
    await expect(client().getStream(VIDEO_ID)).rejects.toMatchObject({ status: 401 });
    expect(requests).toHaveLength(1);
  });

  it('passes a provider failure through unchanged without sending a request', async () => {
    const failure = new Error('not logged in');
    const c = createStreamClient({ baseUrl: BASE_URL, getToken: () => Promise.reject(failure) });
    await expect(c.getStream(VIDEO_ID)).rejects.toBe(failure);
    expect(requests).toHaveLength(0);
  });

  it('rejects with the abort reason when aborted while the provider is still answering, sending nothing', async () => {
    const controller = new AbortController();
    const c = createStreamClient({
      baseUrl: BASE_URL,
      getToken: async () => {
        controller.abort();
        return 'late';
      },
    });
    await expect(c.getStream(VIDEO_ID, { signal: controller.signal })).rejects.toBe(controller.signal.reason);
    expect(requests).toHaveLength(0);
  });
});

describe('other user calls', () => {
  const VIDEO = {
    id: VIDEO_ID,
    owner_id: 'user-1',
    title: 'Demo',
    external_id: 'rec-1',
    metadata: { meeting_id: 'm-1' },
    upload_status: 'complete',
    size_bytes: 1234,
    duration_seconds: 3,
    hls_status: null,
    hls_progress: null,
    hls_error_message: null,
    hls_generated_at: null,
    created_at: '2030-01-01T00:00:00Z',
  };

  it('retryStream posts to /stream/retry and returns the generating answer', async () => {
    server.use(
      http.post(`${STREAM_URL}/retry`, () =>
        HttpResponse.json({ status: 'generating', retry_after: 2 }, { status: 202 }),
      ),
    );
    await expect(client().retryStream(VIDEO_ID)).resolves.toEqual({ status: 'generating', retry_after: 2 });
    expect(requests.map((r) => r.method)).toEqual(['POST']);
  });

  it('retryStream surfaces 409 not_failed as a StreamHttpError', async () => {
    server.use(
      http.post(`${STREAM_URL}/retry`, () =>
        HttpResponse.json({ error: { code: 'not_failed', message: 'Video is ready' } }, { status: 409 }),
      ),
    );
    await expect(client().retryStream(VIDEO_ID)).rejects.toMatchObject({ status: 409, code: 'not_failed' });
  });

  it('getVideo returns the video JSON', async () => {
    server.use(http.get(`${BASE_URL}/api/videos/${VIDEO_ID}`, () => HttpResponse.json(VIDEO)));
    await expect(client().getVideo(VIDEO_ID)).resolves.toEqual(VIDEO);
  });

  it('listVideosPage sends the external_id and q filters with the page', async () => {
    server.use(
      http.get(`${BASE_URL}/api/videos`, () => HttpResponse.json({ videos: [VIDEO], next_cursor: null })),
    );
    await client().listVideosPage({ external_id: 'rec 1', q: '50% off', limit: 5, cursor: 'c1' });
    const url = new URL(requests[0]!.url);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      limit: '5',
      cursor: 'c1',
      external_id: 'rec 1',
      q: '50% off',
    });
  });

  it('listVideos unwraps the videos array', async () => {
    server.use(http.get(`${BASE_URL}/api/videos`, () => HttpResponse.json({ videos: [VIDEO] })));
    await expect(client().listVideos()).resolves.toEqual([VIDEO]);
  });

  it('videos() iterates every page, following next_cursor, with the limit asked for', async () => {
    const seen: Array<string | null> = [];
    const second = { ...VIDEO, id: 'second' };
    const third = { ...VIDEO, id: 'third' };
    server.use(
      http.get(`${BASE_URL}/api/videos`, ({ request }) => {
        const url = new URL(request.url);
        seen.push(url.searchParams.get('cursor'));
        expect(url.searchParams.get('limit')).toBe('2');
        return HttpResponse.json(
          url.searchParams.get('cursor') === 'c1'
            ? { videos: [third], next_cursor: null }
            : { videos: [VIDEO, second], next_cursor: 'c1' },
        );
      }),
    );
    const ids: string[] = [];
    for await (const video of client().videos({ limit: 2 })) ids.push(video.id);
    expect(ids).toEqual([VIDEO.id, 'second', 'third']);
    expect(seen).toEqual([null, 'c1']);
    await expect(client().listVideosPage({ limit: 2, cursor: 'c1' })).resolves.toEqual({
      videos: [third],
      next_cursor: null,
    });
  });
});
