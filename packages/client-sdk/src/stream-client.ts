import { createClock } from './clock.js';
import { StreamFailedError, StreamTimeoutError } from './errors.js';
import { createSend } from './http.js';
import { allPages, collectPages, pageQuery, type PageOptions, type VideoPage } from './pages.js';
import { backoffDelay, isComeBackLater, isRetryable } from './retry.js';
import { toStreamStatus } from './stream-status.js';
import type {
  RequestOptions,
  StreamClock,
  StreamGenerating,
  StreamPlayable,
  StreamReady,
  StreamStatus,
  Video,
} from './types.js';

/** Returns the user's bearer token; called before every request, and once more with `refresh: true` after a 401. */
export type TokenProvider = (context: { refresh: boolean }) => string | Promise<string>;

/** Backoff for network errors and 5xx answers while waiting (4xx never retry). */
export interface RetryOptions {
  /** Consecutive failed attempts tolerated before rejecting with the last error. Default 5. */
  limit?: number;
  /** Delay before the first retry, in ms; doubles on each failure. Default 1000. */
  baseDelay?: number;
  /** Upper bound of one backoff delay, in ms. Default 10000. */
  maxDelay?: number;
}

export type StreamClientOptions = {
  /** Origin (and optional path prefix) of the stream server, e.g. `https://stream.example.com`. */
  baseUrl: string;
  /** `fetch` to use; defaults to the global one at call time. */
  fetch?: typeof fetch;
  retry?: RetryOptions;
  /** Time source for polling and backoff (tests). */
  clock?: Partial<StreamClock>;
} & (
  | {
      /** A fixed user token. A 401 is final: there is nothing to refresh. */
      token: string;
      getToken?: never;
    }
  | {
      /** Token provider, may be async. After a 401 it is asked once more (`refresh: true`), never in a loop. */
      getToken: TokenProvider;
      token?: never;
    }
);

export interface WaitForStreamOptions extends RequestOptions {
  /** Reject with `StreamTimeoutError` after this many ms (the request in flight is cancelled). */
  timeout?: number;
  /** Called with every `/stream` answer, including the last one. */
  onStatus?: (status: StreamStatus) => void;
  /** Also resolve on the first `generating` answer that is already playable (`playable` + `hls_url`). */
  untilPlayable?: boolean;
}

export interface StreamClient {
  /**
   * One `GET /api/videos/{id}/stream` (the first call starts generation).
   * @example
   * const s = await client.getStream(id);
   * if (s.status === 'ready') player.src = s.hls_url;
   */
  getStream(id: string, options?: RequestOptions): Promise<StreamStatus>;
  /**
   * Polls `/stream` until `ready`, waiting `retry_after` seconds (at least 0.5 s) between polls. A 503 with
   * `Retry-After` (the database or bucket is away for a while) is waited out for as long as it lasts, bounded by
   * `timeout` and `signal`; other 5xx and network errors are retried up to `retry.limit` times. Rejects with
   * `StreamFailedError`, `StreamTimeoutError`, `StreamHttpError` (4xx, or 5xx after retries),
   * `StreamNetworkError` (after retries) or `signal.reason`.
   * @example
   * const { hls_url } = await client.waitForStream(id, { signal, timeout: 120_000, onStatus: (s) => show(s) });
   */
  waitForStream(
    id: string,
    options: WaitForStreamOptions & { untilPlayable: true },
  ): Promise<StreamReady | StreamPlayable>;
  waitForStream(id: string, options?: WaitForStreamOptions & { untilPlayable?: false }): Promise<StreamReady>;
  waitForStream(id: string, options?: WaitForStreamOptions): Promise<StreamReady | StreamPlayable>;
  /** Restarts generation of a failed (or never generated) video. `409 not_failed` otherwise. */
  retryStream(id: string, options?: RequestOptions): Promise<StreamGenerating>;
  /** `GET /api/videos/{id}`. */
  getVideo(id: string, options?: RequestOptions): Promise<Video>;
  /** All the caller's videos, newest first (every page, fetched one after another). */
  listVideos(options?: RequestOptions): Promise<Video[]>;
  /** One page of the caller's videos, newest first (`GET /api/videos?limit=&cursor=`). */
  listVideosPage(options?: PageOptions): Promise<VideoPage>;
  /**
   * The caller's videos, newest first, as an async iterator over every page.
   * @example
   * for await (const video of client.videos()) render(video);
   */
  videos(options?: PageOptions): AsyncGenerator<Video, void, undefined>;
}

const streamPath = (id: string): string => `/api/videos/${encodeURIComponent(id)}/stream`;

/** The `/stream` part of `StreamClient`: what a player needs to start and follow playback. */
export type StreamPlaybackClient = Pick<StreamClient, 'getStream' | 'waitForStream' | 'retryStream'>;

type Send = ReturnType<typeof createSend>;

const connect = (options: StreamClientOptions) => {
  const { getToken, token } = options;
  const clock = createClock(options.clock);
  const send = createSend(
    options.baseUrl,
    (refresh) => (getToken ? getToken({ refresh }) : token),
    !!getToken,
    options.fetch,
    clock.now,
  );
  return { clock, send };
};

/**
 * Creates a client for the user API of a Notetaker Stream server.
 * @example
 * const client = createStreamClient({ baseUrl: 'https://stream.example.com', getToken: () => auth.token() });
 * const { hls_url } = await client.waitForStream(videoId);
 */
export const createStreamClient = (options: StreamClientOptions): StreamClient => {
  const connection = connect(options);
  const { send } = connection;
  const listVideosPage = async (o: PageOptions = {}): Promise<VideoPage> =>
    (await send('GET', '/api/videos' + pageQuery(o), o.signal)).data;
  return {
    ...playbackClient(options, connection),

    getVideo: async (id, o = {}) =>
      (await send('GET', '/api/videos/' + encodeURIComponent(id), o.signal)).data,

    listVideos: (o = {}) => collectPages(listVideosPage, o),
    listVideosPage,
    videos: (o = {}) => allPages(listVideosPage, o),
  };
};

/**
 * Creates a client for the `/stream` endpoints only (`getStream`, `waitForStream`, `retryStream`), with the same
 * options and behaviour as `createStreamClient`; for players, which need nothing else and bundle less.
 * @example
 * const client = createStreamPlaybackClient({ baseUrl: 'https://stream.example.com', token });
 */
export const createStreamPlaybackClient = (options: StreamClientOptions): StreamPlaybackClient =>
  playbackClient(options, connect(options));

function playbackClient(
  options: StreamClientOptions,
  { clock, send }: { clock: ReturnType<typeof createClock>; send: Send },
): StreamPlaybackClient {
  const { limit = 5, baseDelay = 1000, maxDelay = 10_000 } = options.retry ?? {};
  const getStream = (id: string, o: RequestOptions = {}) =>
    toStreamStatus(send, 'GET', streamPath(id), o.signal, clock.now);

  return {
    getStream,

    async waitForStream(id: string, o: WaitForStreamOptions = {}): Promise<any> {
      const { signal: outer, timeout, onStatus } = o;
      outer?.throwIfAborted();
      const controller = new AbortController();
      const signal = controller.signal;
      const abort = (): void => controller.abort(outer!.reason);
      outer?.addEventListener('abort', abort);
      if (timeout != null)
        clock.sleep(timeout, signal).then(
          () => controller.abort(new StreamTimeoutError(timeout)),
          () => {},
        );
      try {
        for (let failures = 0; ;) {
          let delay: number;
          try {
            const status = await getStream(id, { signal });
            failures = 0;
            onStatus?.(status);
            if (status.status == 'failed') throw new StreamFailedError(status.error_message);
            if (status.status == 'ready' || (o.untilPlayable && status.playable && status.hls_url))
              return status;
            // At least 0.5 s between polls, whatever the server says.
            delay = Math.max(status.retry_after * 1000, 500);
          } catch (error) {
            signal.throwIfAborted();
            // A 503 with Retry-After (an outage the server rides out) is waited out like `generating`, bounded by
            // `timeout` and `signal` rather than by the retry limit.
            if (!isRetryable(error) || (!isComeBackLater(error) && ++failures > limit)) throw error;
            delay = backoffDelay(error, failures, baseDelay, maxDelay, clock.random);
          }
          await clock.sleep(delay, signal);
        }
      } finally {
        outer?.removeEventListener('abort', abort);
        controller.abort();
      }
    },

    retryStream: (id, o = {}) =>
      toStreamStatus(
        send,
        'POST',
        streamPath(id) + '/retry',
        o.signal,
        clock.now,
      ) as Promise<StreamGenerating>,
  };
}
