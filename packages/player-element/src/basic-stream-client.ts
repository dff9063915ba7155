import type { PlayerStreamClient, StreamAnswer, WaitOptions } from './stream-client.js';

/** An HTTP error answer of the API: `status` and the server's error `code`. */
export class StreamApiError extends Error {
  override readonly name = 'StreamApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface BasicStreamClientOptions {
  baseUrl: string;
  getToken: () => string | Promise<string>;
  fetch?: typeof fetch;
}

/** A minimal `/stream` client: one request per call, polling at the server's `retry_after`. */
export function createBasicStreamClient(options: BasicStreamClientOptions): PlayerStreamClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const request = async (id: string, method: string, signal?: AbortSignal): Promise<StreamAnswer> => {
    const token = await options.getToken();
    const path = `/api/videos/${encodeURIComponent(id)}/stream${method === 'POST' ? '/retry' : ''}`;
    const init: RequestInit = { method, headers: token ? { authorization: `Bearer ${token}` } : {} };
    if (signal) init.signal = signal;
    const response = await doFetch(base + path, init);
    const body = (await response.json().catch(() => ({}))) as {
      error?: { code?: string; message?: string };
    };
    if (!response.ok) {
      throw new StreamApiError(
        response.status,
        body.error?.code ?? 'http_' + response.status,
        body.error?.message ?? response.statusText,
      );
    }
    return body as StreamAnswer;
  };
  const wait = async (id: string, opts: WaitOptions = {}): Promise<StreamAnswer> => {
    for (;;) {
      const answer = await request(id, 'GET', opts.signal);
      opts.onStatus?.(answer);
      if (answer.status !== 'generating' || (opts.untilPlayable && answer.playable && answer.hls_url)) {
        return answer;
      }
      await sleep(Math.max(0.25, answer.retry_after ?? 2) * 1000, opts.signal);
    }
  };
  return {
    getStream: (id, opts) => request(id, 'GET', opts?.signal),
    retryStream: (id, opts) => request(id, 'POST', opts?.signal),
    waitForStream: wait,
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
