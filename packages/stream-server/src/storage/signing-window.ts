import { MAX_PRESIGN_SECONDS } from '../config/presign-limit.js';

/** When a URL signed within a window says it was signed, and how long it lives from then. */
export interface WindowedSignature {
  /** The window's start: what the URL is signed "at" (SigV4's `X-Amz-Date`, the base of local `X-Expires`). */
  signedAt: Date;
  /** Counted from `signedAt`: the window's length plus the TTL, so the URL expires when the window's last hand-out would. */
  expiresInSeconds: number;
}

/**
 * The signing window a URL handed out at `nowMs` belongs to. Windows are aligned to the clock (a 3600 s window
 * starts on the hour), so every process signing the same object within one window writes the same URL, byte for
 * byte — one copy per object per window in a URL-keyed cache. A URL handed out at any moment of the window stays
 * valid at least `ttlSeconds` and at most `ttlSeconds + windowSeconds` after it was handed out.
 *
 * The window shrinks when `ttlSeconds + windowSeconds` would pass S3's 7-day limit; a window of 0 signs at `nowMs`.
 *
 * @example
 * signingWindow(Date.parse('2026-12-06T10:20:00Z'), 3600, 21600);
 * // { signedAt: 2026-12-06T10:00:00Z, expiresInSeconds: 25200 } (valid until 17:00)
 */
export function signingWindow(nowMs: number, windowSeconds: number, ttlSeconds: number): WindowedSignature {
  const window = Math.max(0, Math.min(windowSeconds, MAX_PRESIGN_SECONDS - ttlSeconds));
  if (window === 0)
    return { signedAt: new Date(Math.floor(nowMs / 1000) * 1000), expiresInSeconds: ttlSeconds };
  const startSeconds = Math.floor(nowMs / 1000 / window) * window;
  return { signedAt: new Date(startSeconds * 1000), expiresInSeconds: window + ttlSeconds };
}
