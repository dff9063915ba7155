import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

export const BASE_URL = 'https://stream.test';
export const VIDEO_ID = '3f2c1b7e-8a4d-4c2e-9f1a-0b6d5e4c3a21';
export const STREAM_URL = `${BASE_URL}/api/videos/${VIDEO_ID}/stream`;

/** One msw server per test file; `requests` lists every request it saw during the current test. */
export const useMockServer = () => {
  const server = setupServer();
  const requests: Request[] = [];
  server.events.on('request:start', ({ request }) => {
    requests.push(request);
  });
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  beforeEach(() => {
    requests.length = 0;
  });
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  return { server, requests };
};

/** A promise with its resolve function, to hold a handler open until the test releases it. */
export const deferred = <T = void>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

/** Lets pending I/O callbacks and microtasks run (no time passes on the fake clock). */
export const flushIo = async (rounds = 5): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};
