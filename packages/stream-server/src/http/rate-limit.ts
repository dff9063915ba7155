import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';

/**
 * Fixed-window counters per key (a client address), in this process's memory. Bounded: at most `maxKeys` keys are
 * kept; when full, expired windows are dropped first, then the oldest keys.
 *
 * @example
 * const limiter = createRateLimiter({ limit: 30 });
 * if (limiter.isLimited(address)) …; limiter.count(address);
 */
export interface RateLimiter {
  /** Seconds until `key` may try again, or 0 when it is under its limit. */
  retryAfter(key: string): number;
  /** Counts one event for `key`; returns 0 when it is within the limit, else the seconds until the window ends. */
  count(key: string): number;
}

export function createRateLimiter(options: {
  /** Events per window and key; 0 disables the limiter (it never limits and keeps nothing). */
  limit: number;
  windowSeconds?: number;
  maxKeys?: number;
  clock?: () => number;
}): RateLimiter {
  const windowMs = (options.windowSeconds ?? 60) * 1000;
  const maxKeys = options.maxKeys ?? 10_000;
  const now = options.clock ?? Date.now;
  const windows = new Map<string, { count: number; endsAt: number }>();

  const current = (key: string, at: number) => {
    const entry = windows.get(key);
    if (entry && entry.endsAt > at) return entry;
    if (entry) windows.delete(key);
    return undefined;
  };
  const wait = (entry: { count: number; endsAt: number } | undefined, at: number) =>
    entry && entry.count >= options.limit ? Math.max(1, Math.ceil((entry.endsAt - at) / 1000)) : 0;

  const evict = (at: number) => {
    for (const [key, entry] of windows) if (entry.endsAt <= at) windows.delete(key);
    // Still full: the oldest windows go (a Map iterates in insertion order).
    for (const key of windows.keys()) {
      if (windows.size < maxKeys) break;
      windows.delete(key);
    }
  };

  return {
    retryAfter(key) {
      if (options.limit <= 0) return 0;
      const at = now();
      return wait(current(key, at), at);
    },
    count(key) {
      if (options.limit <= 0) return 0;
      const at = now();
      let entry = current(key, at);
      if (!entry) {
        if (windows.size >= maxKeys) evict(at);
        entry = { count: 0, endsAt: at + windowMs };
        windows.set(key, entry);
      }
      entry.count += 1;
      // This event is the limit's last allowed one when the count reaches it; the next one waits.
      return entry.count > options.limit ? wait(entry, at) : 0;
    },
  };
}

/**
 * The client's address: the socket's remote address, or with `trustProxy` the last `X-Forwarded-For` entry (the
 * one the trusted proxy in front added; earlier entries are whatever the client sent). `unknown` when the request
 * did not come through a Node server (e.g. `app.request()` in tests).
 */
export function clientAddress(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded
      ?.split(',')
      .map((part) => part.trim())
      .filter(Boolean)
      .at(-1);
    if (last) return last;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
