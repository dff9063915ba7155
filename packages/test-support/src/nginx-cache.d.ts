/** Debian's nginx, or `NGINX_PATH`. */
export declare const NGINX_PATH: string;

/** A running nginx cache in front of an origin, and what the origin served through it. */
export interface NginxCache {
  /** The cache's origin, e.g. `http://127.0.0.1:41234` (what `SEGMENT_CDN_URL` points at). */
  url: string;
  /** How many times the origin answered each path (query left out), counted between the cache and the origin. */
  originFetches(): Map<string, number>;
  /** How many times the origin answered each full URL (path and signed query). */
  originFetchesByUrl(): Map<string, number>;
  /** Stops nginx and the counter and removes the cache folder. */
  stop(): Promise<void>;
}

/** A TCP port free at this moment on 127.0.0.1. */
export declare function freePort(): Promise<number>;

/**
 * nginx with `proxy_cache` in front of `origin` (a bucket, or the service with local storage), caching on the full
 * URL with the origin's own `Host`, coalescing concurrent misses; `maxSize` is nginx's `max_size` (default `1g`).
 *
 * @example
 * const cache = await startNginxCache(server.url, { port: await freePort() });
 * await fetch(`${cache.url}/storage/o/videos/…?X-Expires=…&X-Signature=…`);
 * cache.originFetches(); // Map { '/storage/o/videos/…' => 1 }
 * await cache.stop();
 */
export declare function startNginxCache(
  origin: string,
  options?: { port?: number; maxSize?: string },
): Promise<NginxCache>;

/** Runs `task` for every item, at most `limit` at a time. */
export declare function eachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void>;
