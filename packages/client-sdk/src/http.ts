import { StreamHttpError, StreamNetworkError } from './errors.js';

/** Answer of a successful request: status and parsed JSON body (`undefined` when empty or not JSON). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  data: any;
}

export type Send = (
  method: string,
  path: string,
  signal?: AbortSignal,
  body?: unknown,
  /** Sends `body` as is with this content type instead of as JSON. */
  type?: string,
) => Promise<HttpAnswer>;

/** Credentials for one request; `refresh` is true on the single retry after a 401. */
export type Credential = (refresh: boolean) => string | undefined | Promise<string | undefined>;

/** Milliseconds requested by a `Retry-After` header (delta-seconds or HTTP date), if any. */
export const retryAfterMs = (headers: Headers, now: () => number): number | undefined => {
  const value = headers.get('retry-after');
  if (value == null) return;
  const ms = +value >= 0 ? +value * 1000 : Date.parse(value) - now();
  return ms >= 0 ? ms : ms < 0 ? 0 : undefined;
};

/**
 * One JSON request helper shared by both entry points: bearer auth, one credential refresh after a 401 when
 * `canRefresh`, `signal.reason` on abort, `StreamNetworkError` when no answer, `StreamHttpError` for 4xx/5xx.
 */
export const createSend =
  (
    baseUrl: string,
    credential: Credential,
    canRefresh: boolean,
    fetchFn: typeof fetch | undefined,
    now: () => number,
  ): Send =>
  async (method, path, signal, body, type) => {
    for (let refresh = false; ; refresh = true) {
      signal?.throwIfAborted();
      const token = await credential(refresh);
      signal?.throwIfAborted();
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token) headers.authorization = 'Bearer ' + token;
      if (body) headers['content-type'] = type || 'application/json';
      let res: Response;
      let text: string;
      try {
        res = await (fetchFn ?? fetch)(baseUrl.replace(/\/+$/, '') + path, {
          method,
          headers,
          body: type ? (body as BodyInit) : body ? JSON.stringify(body) : undefined,
          signal,
        });
        text = await res.text();
      } catch (error) {
        signal?.throwIfAborted();
        throw new StreamNetworkError(error);
      }
      if (res.status == 401 && canRefresh && !refresh) continue;
      let data: any;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {}
      if (!res.ok) {
        const error = data?.error;
        throw new StreamHttpError(
          res.status,
          error?.code ?? 'http_' + res.status,
          error?.message ?? 'HTTP ' + res.status,
          retryAfterMs(res.headers, now),
          res.headers.get('x-request-id') ?? undefined,
        );
      }
      return { status: res.status, headers: res.headers, data };
    }
  };
