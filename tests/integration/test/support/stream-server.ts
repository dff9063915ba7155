// Browser side of the real stream server the test runner starts (see stream-server-plugin.mjs).
import { executeServerCommand } from '@web/test-runner-commands';

export interface ServerFixtures {
  apiBase: string;
  token: string;
  presignTtlSeconds: number;
  videos: { ready: string; long: string; fresh: string; corrupt: string };
}

export async function loadServerFixtures(): Promise<ServerFixtures> {
  const response = await fetch('/fixtures.json');
  if (!response.ok)
    throw new Error(`The stream server did not start: ${response.status} ${await response.text()}`);
  return (await response.json()) as ServerFixtures;
}

/** The second server, whose generations read their source at `readRate`× real time (see stream-server-plugin.mjs). */
export interface GrowingFixtures {
  apiBase: string;
  token: string;
  /** A video never viewed: the first /stream request starts its (slow) generation. */
  videoId: string;
  /** Length of that video in seconds. */
  seconds: number;
  readRate: number;
}

/** Starts (once per run) and describes the slow-generation server. */
export async function loadGrowingFixtures(): Promise<GrowingFixtures> {
  const response = await fetch('/growing-fixtures.json');
  if (!response.ok)
    throw new Error(`The growing-playlist server did not start: ${response.status} ${await response.text()}`);
  return (await response.json()) as GrowingFixtures;
}

/** The third server: a video whose master playlist has a lower rendition and a caption track. */
export interface LadderFixtures {
  apiBase: string;
  token: string;
  videoId: string;
  /** Heights of the variants, highest first: the source rendition, then the rung made after ready. */
  heights: number[];
  /** The caption track (not the default one) and the text of its one cue, shown over nearly the whole video. */
  caption: { language: string; label: string; text: string };
}

/** Starts (once per run) the server with a bitrate ladder and captions, and waits until its rung exists. */
export async function loadLadderFixtures(): Promise<LadderFixtures> {
  const response = await fetch('/ladder-fixtures.json');
  if (!response.ok)
    throw new Error(`The ladder server did not start: ${response.status} ${await response.text()}`);
  return (await response.json()) as LadderFixtures;
}

/** Replaces the source object of `id` in the server's storage with a good 10 s MP4. */
export async function replaceVideoSource(id: string): Promise<void> {
  await executeServerCommand('replace-video-source', { id });
}

export interface RequestLog {
  /** URLs of every XHR and fetch started since tracking began. */
  urls: string[];
  /** Requests started and not yet finished (loaded, failed or aborted). */
  inFlight(): number;
  restore(): void;
}

/** Records XHR (hls.js) and fetch (the /stream client) requests. */
export function trackRequests(): RequestLog {
  const proto = XMLHttpRequest.prototype;
  const { open, send } = proto;
  const originalFetch = window.fetch;
  const urls: string[] = [];
  const xhrUrls = new WeakMap<XMLHttpRequest, string>();
  const active = new Set<XMLHttpRequest>();
  let fetches = 0;
  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: unknown[]) {
    xhrUrls.set(this, String(url));
    return (open as (...args: unknown[]) => void).call(this, method, url, ...rest);
  } as typeof open;
  proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
    active.add(this);
    urls.push(xhrUrls.get(this) ?? '');
    this.addEventListener('loadend', () => active.delete(this), { once: true });
    return send.call(this, body);
  };
  window.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    urls.push(input instanceof Request ? input.url : String(input));
    fetches++;
    try {
      return await originalFetch(input, init);
    } finally {
      fetches--;
    }
  };
  return {
    urls,
    inFlight: () => active.size + fetches,
    restore: () => {
      proto.open = open;
      proto.send = send;
      window.fetch = originalFetch;
    },
  };
}
