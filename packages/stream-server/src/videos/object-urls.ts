import type { Storage } from '../storage/storage.js';
import { signingWindow, type WindowedSignature } from '../storage/signing-window.js';

// The one home of the URLs handed out for stored objects a player fetches straight from storage (segments of every
// rendition, caption files, storyboard sprites, the poster): signed as of the start of a signing window, so every
// viewer of a window gets the same URL byte for byte and a URL-keyed cache keeps one copy per object and window, and
// moved onto a CDN's origin when one is configured. See docs/decisions/0016-cache-shareable-segment-urls.md.

/** The handed-out URL of a stored object, for the current signing window. */
export interface ObjectUrls {
  get(key: string): Promise<string>;
  /**
   * The start (ms) of the signing window URLs are handed out for now: every URL `get` hands out stays the same until
   * this changes. `undefined` when URLs are signed per request, without windows.
   */
  currentWindow(): number | undefined;
}

/**
 * The object URLs of one service: presigned for shared caches (`Cache-Control: public` with the URL's remaining
 * life), once per object and window, through `segmentCdnUrl` when given.
 *
 * @example
 * const urls = createObjectUrls({ storage, presignTtlSeconds: 21600, presignWindowSeconds: 3600 });
 * await urls.get('videos/u/v_hls/segment00001.ts'); // the same URL for every call until the next full hour
 */
export function createObjectUrls(deps: {
  storage: Storage;
  presignTtlSeconds: number;
  /** Sign once per window of this many seconds (default 0: per request, each URL reused a short while). */
  presignWindowSeconds?: number | undefined;
  /** Origin (and path) of a CDN in front of the storage: handed-out object URLs point there. */
  segmentCdnUrl?: string | undefined;
  /** Current time in milliseconds (default `Date.now`). */
  now?: () => number;
}): ObjectUrls {
  return createPresignCache({
    presign: async (key, window) => {
      const url = await deps.storage.presignGet(key, { ...window, sharedCache: true });
      return deps.segmentCdnUrl ? throughCdn(url, deps.segmentCdnUrl) : url;
    },
    ttlSeconds: deps.presignTtlSeconds,
    windowSeconds: deps.presignWindowSeconds ?? 0,
    ...(deps.now ? { now: deps.now } : {}),
  });
}

/**
 * The presigned URL of an object for the current signing window (see `storage/signing-window.ts` and
 * docs/decisions/0016-cache-shareable-segment-urls.md): within one window every viewer gets the same URL, so it is
 * signed once per object and window and then reused. A live (EVENT) playlist is reloaded by every viewer every few
 * seconds and an S3 presign costs CPU, so a 600-segment playlist would otherwise cost most of a second each time.
 * URLs are not user-specific; the token and access checks still run on every request. Bounded: the least recently
 * used entries are dropped beyond `maxEntries`.
 */
export function createPresignCache(options: {
  presign: (key: string, window: WindowedSignature) => Promise<string>;
  ttlSeconds: number;
  /** Default 0: sign at the current moment and reuse the URL for a tenth of its life (5 minutes at most). */
  windowSeconds?: number;
  maxEntries?: number;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const windowSeconds = options.windowSeconds ?? 0;
  const reuseMs = Math.min(300_000, options.ttlSeconds * 100);
  const entries = new Map<string, { url: Promise<string>; signedAt: number }>();
  /** Whether a URL signed at `signedAt` may still be handed out at `at`. */
  const fresh = (signedAt: number, at: number) =>
    windowSeconds > 0
      ? signingWindow(at, windowSeconds, options.ttlSeconds).signedAt.getTime() === signedAt
      : at - signedAt < reuseMs;
  return {
    currentWindow(): number | undefined {
      if (windowSeconds <= 0) return undefined;
      const window = signingWindow(now(), windowSeconds, options.ttlSeconds);
      // A window that S3's 7-day limit shrank to nothing signs per request.
      return window.expiresInSeconds > options.ttlSeconds ? window.signedAt.getTime() : undefined;
    },
    get(key: string): Promise<string> {
      const at = now();
      const hit = entries.get(key);
      entries.delete(key);
      if (hit && fresh(hit.signedAt, at)) {
        entries.set(key, hit);
        return hit.url;
      }
      const window = signingWindow(at, windowSeconds, options.ttlSeconds);
      const url = options.presign(key, window);
      const entry = { url, signedAt: windowSeconds > 0 ? window.signedAt.getTime() : at };
      entries.set(key, entry);
      url.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      return url;
    },
  };
}

/** A storage URL moved onto the CDN in front of the storage: the CDN's origin, the same path and signed query. */
export function throughCdn(url: string, cdnBase: string): string {
  const parsed = new URL(url);
  return `${cdnBase.replace(/\/+$/, '')}${parsed.pathname}${parsed.search}`;
}
