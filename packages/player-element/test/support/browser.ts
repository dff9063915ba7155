// Helpers for the browser tests: assertions, waiting for conditions, a scripted /stream API, hls.js tracking.
import type { NotetakerPlayerElement } from '../../src/notetaker-player.js';

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Assertion failed: ${message}`);
}

export function equal<T>(actual: T, expected: T, message: string): void {
  if (!Object.is(actual, expected)) {
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/**
 * Resolves with the first truthy value of `check`, polling each animation frame; fails after `timeoutMs` with
 * `message` (a function is called then, to describe the state that did not change).
 */
export async function waitFor<T>(
  check: () => T,
  message: string | (() => string),
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline)
      throw new Error(`Timed out waiting for: ${typeof message === 'function' ? message() : message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function nextEvent<E extends Event = Event>(
  target: EventTarget,
  type: string,
  timeoutMs = 10_000,
): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`No "${type}" event within ${timeoutMs} ms`)), timeoutMs);
    target.addEventListener(
      type,
      (event) => {
        clearTimeout(timer);
        resolve(event as E);
      },
      { once: true },
    );
  });
}

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
            headers: { 'content-type': 'application/json' },
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

/** Absolute URL of the HLS stream the test runner made with ffmpeg. */
export const FIXTURE_HLS_URL = new URL('/.tmp/fixtures/vod/playlist.m3u8', location.href).href;

export function createPlayer(attributes: Record<string, string>, children = ''): NotetakerPlayerElement {
  const player = document.createElement('notetaker-player');
  for (const [name, value] of Object.entries(attributes)) player.setAttribute(name, value);
  player.innerHTML = children;
  document.body.append(player);
  return player;
}

/** Counts hls.js instances: attached and not yet destroyed. */
export async function trackHls(): Promise<{ live: Set<object>; created(): number; restore(): void }> {
  const Hls = (await import('hls.js')).default;
  const proto = Hls.prototype;
  const { attachMedia, destroy } = proto;
  const live = new Set<object>();
  let created = 0;
  proto.attachMedia = function (this: object, ...args: Parameters<typeof attachMedia>) {
    if (!live.has(this)) created++;
    live.add(this);
    return attachMedia.apply(this, args);
  } as typeof attachMedia;
  proto.destroy = function (this: object) {
    live.delete(this);
    return destroy.call(this);
  } as typeof destroy;
  return {
    live,
    created: () => created,
    restore: () => {
      proto.attachMedia = attachMedia;
      proto.destroy = destroy;
    },
  };
}

/** Runs axe-core on `root` (shadow DOM included) and fails with the violations' summary. */
export async function expectNoAxeViolations(root: Element): Promise<void> {
  await import('axe-core/axe.min.js');
  const axe = (window as unknown as { axe: typeof import('axe-core') }).axe;
  const result = await axe.run(root, { resultTypes: ['violations'] });
  const summary = result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
  );
  equal(summary.join('\n'), '', 'axe violations');
}
