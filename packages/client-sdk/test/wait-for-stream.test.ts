import { HttpResponse, http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { createStreamClient, type StreamStatus } from '../src/index.js';
import { createFakeClock, type FakeClock } from './fake-clock.js';
import { BASE_URL, STREAM_URL, VIDEO_ID, deferred, flushIo, useMockServer } from './mock-server.js';

const { server, requests } = useMockServer();

const READY = {
  status: 'ready',
  hls_url: 'https://s.test/p.m3u8?token=t',
  expires_at: '2030-01-01T00:00:00Z',
};
const generating = (retry_after = 2, extra: object = {}) =>
  HttpResponse.json({ status: 'generating', retry_after, ...extra }, { status: 202 });
const httpError = (status: number, code = `code_${status}`) =>
  HttpResponse.json({ error: { code, message: `status ${status}` } }, { status });

/** Answers the requests in order with the given responses (the last one repeats). */
const answerInOrder = (...answers: (() => Response)[]) => {
  let i = 0;
  server.use(http.get(STREAM_URL, () => answers[Math.min(i++, answers.length - 1)]!()));
};

const setup = (random?: () => number) => {
  const clock = createFakeClock(random);
  const client = createStreamClient({ baseUrl: BASE_URL, token: 'user-token', clock });
  return { clock, client };
};

/** Asserts that nothing is left that could send another request: no timer, no request, no late request. */
const expectQuiet = async (clock: FakeClock, requestCount: number) => {
  await flushIo();
  expect(clock.pending).toBe(0);
  expect(requests).toHaveLength(requestCount);
};

describe('waitForStream polling', () => {
  it('polls until ready, waiting retry_after seconds between answers', async () => {
    answerInOrder(
      () => generating(2),
      () => generating(3, { progress: 0.5 }),
      () => HttpResponse.json(READY),
    );
    const { clock, client } = setup();
    const seen: StreamStatus[] = [];
    await expect(
      clock.run(client.waitForStream(VIDEO_ID, { onStatus: (s) => seen.push(s) })),
    ).resolves.toEqual(READY);
    expect(clock.delays).toEqual([2000, 3000]);
    expect(seen.map((s) => s.status)).toEqual(['generating', 'generating', 'ready']);
    expect(requests).toHaveLength(3);
  });

  it('honours the Retry-After header when the body has no retry_after', async () => {
    answerInOrder(
      () => HttpResponse.json({ status: 'generating' }, { status: 202, headers: { 'Retry-After': '7' } }),
      () => HttpResponse.json(READY),
    );
    const { clock, client } = setup();
    await clock.run(client.waitForStream(VIDEO_ID));
    expect(clock.delays).toEqual([7000]);
  });

  it('waits at least half a second when the server says retry_after 0', async () => {
    answerInOrder(
      () => generating(0),
      () => HttpResponse.json(READY),
    );
    const { clock, client } = setup();
    await clock.run(client.waitForStream(VIDEO_ID));
    expect(clock.delays).toEqual([500]);
  });

  it('rejects with StreamFailedError carrying error_message on a failed answer', async () => {
    answerInOrder(
      () => generating(2),
      () =>
        HttpResponse.json({ status: 'failed', error_message: 'Invalid data found when processing input' }),
    );
    const { clock, client } = setup();
    const onStatus = vi.fn();
    await expect(clock.run(client.waitForStream(VIDEO_ID, { onStatus }))).rejects.toMatchObject({
      name: 'StreamFailedError',
      code: 'stream_failed',
      message: 'Invalid data found when processing input',
    });
    expect(onStatus).toHaveBeenLastCalledWith({
      status: 'failed',
      error_message: 'Invalid data found when processing input',
    });
    await expectQuiet(clock, 2);
  });

  it('resolves on the first playable answer when untilPlayable is set', async () => {
    const playable = {
      status: 'generating',
      retry_after: 2,
      hls_url: 'https://s.test/live.m3u8',
      playable: true,
    };
    answerInOrder(
      () => generating(2, { progress: 0.1 }),
      () => HttpResponse.json(playable, { status: 202 }),
      () => HttpResponse.json(READY),
    );
    const { clock, client } = setup();
    await expect(clock.run(client.waitForStream(VIDEO_ID, { untilPlayable: true }))).resolves.toEqual(
      playable,
    );
    await expectQuiet(clock, 2);
  });

  it('keeps polling past playable answers until ready without untilPlayable', async () => {
    const playable = {
      status: 'generating',
      retry_after: 2,
      hls_url: 'https://s.test/live.m3u8',
      playable: true,
    };
    answerInOrder(
      () => HttpResponse.json(playable, { status: 202 }),
      () => HttpResponse.json(READY),
    );
    const { clock, client } = setup();
    await expect(clock.run(client.waitForStream(VIDEO_ID))).resolves.toEqual(READY);
    expect(requests).toHaveLength(2);
  });

  it('passes an exception thrown by onStatus through and stops polling', async () => {
    answerInOrder(() => generating(2));
    const { clock, client } = setup();
    const boom = new Error('render failed');
    await expect(
      clock.run(
        client.waitForStream(VIDEO_ID, {
          onStatus: () => {
            throw boom;
          },
        }),
      ),
    ).rejects.toBe(boom);
    await expectQuiet(clock, 1);
  });
});

describe('waitForStream retries', () => {
  it.each([400, 403, 404, 409, 422, 429])('never retries a %i answer', async (status) => {
    answerInOrder(() => httpError(status));
    const { clock, client } = setup();
    await expect(clock.run(client.waitForStream(VIDEO_ID))).rejects.toMatchObject({
      name: 'StreamHttpError',
      status,
    });
    await expectQuiet(clock, 1);
  });

  it('retries 5xx answers and network errors, then resolves', async () => {
    answerInOrder(
      () => httpError(503, 'unavailable'),
      () => HttpResponse.error(),
      () => httpError(500),
      () => generating(2),
      () => HttpResponse.json(READY),
    );
    const { clock, client } = setup(() => 0);
    await expect(clock.run(client.waitForStream(VIDEO_ID))).resolves.toEqual(READY);
    // Backoff 1 s, 2 s, 4 s at the lowest jitter (x0.5), then the server's retry_after.
    expect(clock.delays).toEqual([500, 1000, 2000, 2000]);
    expect(requests).toHaveLength(5);
  });

  it('backs off exponentially with jitter in [0.5, 1) of a delay capped at maxDelay', async () => {
    const randoms = [0, 0.5, 0.999, 0, 0.5, 0.999];
    answerInOrder(() => HttpResponse.error());
    const clock = createFakeClock(() => randoms.shift()!);
    const client = createStreamClient({
      baseUrl: BASE_URL,
      token: 't',
      clock,
      retry: { limit: 6, baseDelay: 1000, maxDelay: 8000 },
    });
    await expect(clock.run(client.waitForStream(VIDEO_ID))).rejects.toMatchObject({
      name: 'StreamNetworkError',
    });
    expect(clock.delays).toEqual([
      1000 * 0.5,
      2000 * 0.75,
      4000 * 0.9995,
      8000 * 0.5,
      8000 * 0.75, // 16 s capped at 8 s
      8000 * 0.9995,
    ]);
    await expectQuiet(clock, 7);
  });

  it('keeps every default-random backoff delay within its jitter bounds', async () => {
    answerInOrder(() => httpError(502));
    const clock = createFakeClock(Math.random);
    const client = createStreamClient({ baseUrl: BASE_URL, token: 't', clock, retry: { limit: 8 } });
    await expect(clock.run(client.waitForStream(VIDEO_ID))).rejects.toMatchObject({ status: 502 });
    const ceilings = [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000];
    expect(clock.delays).toHaveLength(ceilings.length);
    clock.delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(delay).toBeLessThan(ceilings[i]!);
    });
  });

  it('waits exactly the Retry-After of a 503 instead of the backoff', async () => {
    answerInOrder(
      () =>
        HttpResponse.json(
          { error: { code: 'unavailable', message: 'busy' } },
          { status: 503, headers: { 'Retry-After': '9' } },
        ),
      () => HttpResponse.json(READY),
    );
    const { clock, client } = setup(() => 0);
    await clock.run(client.waitForStream(VIDEO_ID));
    expect(clock.delays).toEqual([9000]);
  });

  it('rides out a window of 503s with Retry-After longer than the retry limit, then resolves', async () => {
    const unavailable = () =>
      HttpResponse.json(
        { error: { code: 'unavailable', message: 'The database is not answering; try again shortly.' } },
        { status: 503, headers: { 'Retry-After': '5' } },
      );
    answerInOrder(
      () => generating(2),
      ...Array.from({ length: 12 }, () => unavailable),
      () => generating(2),
      () => HttpResponse.json(READY),
    );
    const clock = createFakeClock(() => 0);
    const client = createStreamClient({ baseUrl: BASE_URL, token: 't', clock, retry: { limit: 2 } });
    await expect(clock.run(client.waitForStream(VIDEO_ID))).resolves.toEqual(READY);
    expect(clock.delays).toEqual([2000, ...Array.from({ length: 12 }, () => 5000), 2000]);
    await expectQuiet(clock, 15);
  });

  it('gives up on a 503 window only at its timeout', async () => {
    answerInOrder(() =>
      HttpResponse.json(
        { error: { code: 'unavailable', message: 'away' } },
        { status: 503, headers: { 'Retry-After': '5' } },
      ),
    );
    const clock = createFakeClock(() => 0);
    const client = createStreamClient({ baseUrl: BASE_URL, token: 't', clock, retry: { limit: 1 } });
    await expect(clock.run(client.waitForStream(VIDEO_ID, { timeout: 60_000 }))).rejects.toMatchObject({
      name: 'StreamTimeoutError',
    });
    expect(clock.now()).toBe(60_000);
  });

  it('still counts 503s without Retry-After against the limit', async () => {
    answerInOrder(() => httpError(503, 'unavailable'));
    const clock = createFakeClock(() => 0);
    const client = createStreamClient({ baseUrl: BASE_URL, token: 't', clock, retry: { limit: 2 } });
    await expect(clock.run(client.waitForStream(VIDEO_ID))).rejects.toMatchObject({ status: 503 });
    await expectQuiet(clock, 3);
  });

  it('rejects with the last error after `limit` consecutive failures', async () => {
    answerInOrder(() => httpError(500, 'internal'));
    const clock = createFakeClock();
    const client = createStreamClient({ baseUrl: BASE_URL, token: 't', clock, retry: { limit: 2 } });
    await expect(clock.run(client.waitForStream(VIDEO_ID))).rejects.toMatchObject({
      status: 500,
      code: 'internal',
    });
    await expectQuiet(clock, 3);
  });

  it('restarts the backoff after a successful answer', async () => {
    answerInOrder(
      () => HttpResponse.error(),
      () => generating(2),
      () => HttpResponse.error(),
      () => HttpResponse.json(READY),
    );
    const clock = createFakeClock(() => 0);
    const client = createStreamClient({ baseUrl: BASE_URL, token: 't', clock, retry: { limit: 1 } });
    await expect(clock.run(client.waitForStream(VIDEO_ID))).resolves.toEqual(READY);
    expect(clock.delays).toEqual([500, 2000, 500]);
  });

  it('refreshes the token once per 401 while polling and rejects on a second 401', async () => {
    let call = 0;
    server.use(http.get(STREAM_URL, () => (++call === 1 ? generating(2) : httpError(401, 'unauthorized'))));
    const clock = createFakeClock();
    const getToken = vi.fn(() => 'token');
    const client = createStreamClient({ baseUrl: BASE_URL, getToken, clock });
    await expect(clock.run(client.waitForStream(VIDEO_ID))).rejects.toMatchObject({ status: 401 });
    expect(getToken.mock.calls).toEqual([[{ refresh: false }], [{ refresh: false }], [{ refresh: true }]]);
    await expectQuiet(clock, 3);
  });
});

describe('waitForStream timeout', () => {
  it('rejects with StreamTimeoutError while waiting between polls', async () => {
    answerInOrder(() => generating(2));
    const { clock, client } = setup();
    await expect(clock.run(client.waitForStream(VIDEO_ID, { timeout: 5000 }))).rejects.toMatchObject({
      name: 'StreamTimeoutError',
      code: 'timeout',
    });
    // Polls at 0, 2 and 4 s; the 5 s deadline comes before the poll due at 6 s.
    expect(clock.now()).toBe(5000);
    await expectQuiet(clock, 3);
  });

  it('rejects with StreamTimeoutError and cancels the request in flight', async () => {
    const started = deferred();
    const release = deferred();
    server.use(
      http.get(STREAM_URL, async () => {
        started.resolve();
        await release.promise;
        return HttpResponse.json(READY);
      }),
    );
    const { clock, client } = setup();
    const waiting = client.waitForStream(VIDEO_ID, { timeout: 30_000 });
    await started.promise;
    clock.advance(30_000);
    await expect(waiting).rejects.toMatchObject({ name: 'StreamTimeoutError' });
    expect(requests[0]!.signal.aborted).toBe(true);
    release.resolve();
    await expectQuiet(clock, 1);
  });

  it('cancels its timeout timer when the stream is ready first', async () => {
    answerInOrder(() => HttpResponse.json(READY));
    const { clock, client } = setup();
    await client.waitForStream(VIDEO_ID, { timeout: 60_000 });
    expect(clock.pending).toBe(0);
  });
});

describe('waitForStream abort', () => {
  it('rejects at once with the reason when aborted before the first request, sending nothing', async () => {
    answerInOrder(() => HttpResponse.json(READY));
    const { clock, client } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(client.waitForStream(VIDEO_ID, { signal: controller.signal, timeout: 1000 })).rejects.toBe(
      controller.signal.reason,
    );
    expect((controller.signal.reason as DOMException).name).toBe('AbortError');
    await expectQuiet(clock, 0);
  });

  it('rejects with the reason mid-request without waiting for the answer', async () => {
    const started = deferred();
    const release = deferred();
    server.use(
      http.get(STREAM_URL, async () => {
        started.resolve();
        await release.promise;
        return HttpResponse.json(READY);
      }),
    );
    const { clock, client } = setup();
    const controller = new AbortController();
    const waiting = client.waitForStream(VIDEO_ID, { signal: controller.signal, timeout: 60_000 });
    await started.promise;
    const reason = new Error('user left the page');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(requests[0]!.signal.aborted).toBe(true);
    release.resolve();
    await expectQuiet(clock, 1);
  });

  it('rejects with the reason mid-wait and sends no further request', async () => {
    answerInOrder(() => generating(2));
    const { clock, client } = setup();
    const controller = new AbortController();
    const waiting = client.waitForStream(VIDEO_ID, { signal: controller.signal });
    await clock.nextSleep();
    expect(clock.pending).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toBe(controller.signal.reason);
    await expectQuiet(clock, 1);
  });

  it('rejects with the reason during a backoff wait after a network error', async () => {
    answerInOrder(() => HttpResponse.error());
    const { clock, client } = setup();
    const controller = new AbortController();
    const waiting = client.waitForStream(VIDEO_ID, { signal: controller.signal });
    await clock.nextSleep();
    controller.abort();
    await expect(waiting).rejects.toBe(controller.signal.reason);
    await expectQuiet(clock, 1);
  });

  it('clears the real timer of the default clock when aborted mid-wait', async () => {
    answerInOrder(() => generating(60));
    const client = createStreamClient({ baseUrl: BASE_URL, token: 't' });
    const controller = new AbortController();
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const waiting = client.waitForStream(VIDEO_ID, {
      signal: controller.signal,
      timeout: 600_000,
      onStatus: () => setImmediate(() => controller.abort()),
    });
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    // Other timers in the process may end meanwhile; none may be added by the SDK's wait.
    expect(timers()).toBeLessThanOrEqual(before);
    expect(requests).toHaveLength(1);
  });

  it('removes its listener from the caller signal when done', async () => {
    answerInOrder(() => HttpResponse.json(READY));
    const { client } = setup();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const add = vi.spyOn(controller.signal, 'addEventListener');
    await client.waitForStream(VIDEO_ID, { signal: controller.signal });
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0]![1]);
  });
});
