// Helpers for the browser tests: a scripted /stream API, canned answers, the HLS fixture and mounting a player;
// assertions, waiting and hls.js tracking come from @notetaker/test-support.
import type { NotetakerPlayerElement } from '../../src/notetaker-player.js';

export {
  assert,
  currentEngine,
  equal,
  expectNoAxeViolations,
  nextEvent,
  trackHls,
  waitFor,
} from '@notetaker/test-support/browser';

export interface ApiRequest {
  method: string;
  path: string;
  authorization: string | null;
  aborted: boolean;
  settled: boolean;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
}

export interface ScriptedApi {
  base: string;
  requests: ApiRequest[];
  inFlight(): number;
  restore(): void;
}

/**
 * Answers fetches under `base` with `handler` (others go to the network). A handler may return a promise that never
 * settles to keep a request in flight; the request is then rejected when its signal aborts.
 */
export function scriptApi(
  handler: (request: ApiRequest) => ApiAnswer | Promise<ApiAnswer>,
  base = 'https://api.test',
): ScriptedApi {
  const original = window.fetch;
  const requests: ApiRequest[] = [];
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : null;
    const url = request ? request.url : String(input);
    if (!url.startsWith(base)) return original(input, init);
    const entry: ApiRequest = {
      method: init?.method ?? request?.method ?? 'GET',
      path: url.slice(base.length),
      authorization: new Headers(init?.headers ?? request?.headers).get('authorization'),
      aborted: false,
      settled: false,
    };
    requests.push(entry);
    const signal = init?.signal ?? request?.signal;
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => {
        entry.aborted = entry.settled = true;
        reject(signal?.reason ?? new DOMException('Aborted', 'AbortError'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      Promise.resolve(handler(entry)).then((answer) => {
        if (entry.settled) return;
        entry.settled = true;
        signal?.removeEventListener('abort', onAbort);
        resolve(
          new Response(JSON.stringify(answer.body), {
            status: answer.status,
            headers: { 'content-type': 'application/json', ...answer.headers },
          }),
        );
      }, reject);
    });
  };
  return {
    base,
    requests,
    inFlight: () => requests.filter((request) => !request.settled).length,
    restore: () => {
      window.fetch = original;
    },
  };
}

export const never = (): Promise<never> => new Promise<never>(() => undefined);

export function ready(url: string): ApiAnswer {
  return {
    status: 200,
    body: { status: 'ready', hls_url: url, expires_at: new Date(Date.now() + 3600e3).toISOString() },
  };
}

export function generating(extra: Record<string, unknown> = {}): ApiAnswer {
  return { status: 202, body: { status: 'generating', retry_after: 0.01, ...extra } };
}

export function apiError(status: number, code: string): ApiAnswer {
  return { status, body: { error: { code, message: code } } };
}

/** A 503 `unavailable` as the server answers while its database or bucket is away, with its `Retry-After`. */
export function unavailable(retryAfter: string): ApiAnswer {
  return {
    status: 503,
    body: { error: { code: 'unavailable', message: 'The database is not answering; try again shortly.' } },
    headers: { 'Retry-After': retryAfter },
  };
}

/** Absolute URL of the HLS stream the test runner made with ffmpeg. */
export const FIXTURE_HLS_URL = new URL('/.tmp/fixtures/vod/playlist.m3u8', location.href).href;

export function createPlayer(attributes: Record<string, string>, children = ''): NotetakerPlayerElement {
  const player = document.createElement('notetaker-player');
  for (const [name, value] of Object.entries(attributes)) player.setAttribute(name, value);
  player.innerHTML = children;
  document.body.append(player);
  return player;
}
