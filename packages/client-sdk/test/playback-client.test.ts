import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { createStreamPlaybackClient } from '../src/index.js';
import { BASE_URL, STREAM_URL, VIDEO_ID, useMockServer } from './mock-server.js';

const { server, requests } = useMockServer();
const READY = {
  status: 'ready',
  hls_url: 'https://cdn.test/p.m3u8?token=t',
  expires_at: '2030-01-01T00:00:00Z',
};

describe('createStreamPlaybackClient', () => {
  it('has the /stream calls only', () => {
    const client = createStreamPlaybackClient({ baseUrl: BASE_URL, token: 'user-token' });
    expect(Object.keys(client).sort()).toEqual(['getStream', 'retryStream', 'waitForStream']);
  });

  it('gets, waits for and retries a stream with the user token, asking getToken again after a 401', async () => {
    let calls = 0;
    server.use(
      http.get(STREAM_URL, ({ request }) =>
        request.headers.get('authorization') === 'Bearer fresh'
          ? HttpResponse.json(READY)
          : HttpResponse.json({ error: { code: 'unauthorized', message: 'expired' } }, { status: 401 }),
      ),
      http.post(`${STREAM_URL}/retry`, () =>
        HttpResponse.json({ status: 'generating', retry_after: 1 }, { status: 202 }),
      ),
    );
    const refreshes: boolean[] = [];
    const client = createStreamPlaybackClient({
      baseUrl: BASE_URL,
      getToken: ({ refresh }) => {
        refreshes.push(refresh);
        calls++;
        return refresh ? 'fresh' : 'stale';
      },
    });
    await expect(client.getStream(VIDEO_ID)).resolves.toEqual(READY);
    expect(refreshes).toEqual([false, true]);
    await expect(client.waitForStream(VIDEO_ID)).resolves.toEqual(READY);
    await expect(client.retryStream(VIDEO_ID)).resolves.toEqual({ status: 'generating', retry_after: 1 });
    expect(requests.map((request) => `${request.method} ${new URL(request.url).pathname}`)).toContain(
      `POST /api/videos/${VIDEO_ID}/stream/retry`,
    );
    expect(calls).toBeGreaterThanOrEqual(4);
  });
});
