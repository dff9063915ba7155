import { StreamHttpError } from './errors.js';
import { retryAfterMs, type Send } from './http.js';
import type { StreamStatus } from './types.js';

/** Checks a `/stream`-shaped answer and fills `retry_after` for `generating`. */
export const toStreamStatus = async (
  send: Send,
  method: string,
  path: string,
  signal: AbortSignal | undefined,
  now: () => number,
): Promise<StreamStatus> => {
  const { status, headers, data } = await send(method, path, signal);
  const state = data?.status;
  if (state != 'ready' && state != 'generating' && state != 'failed')
    throw new StreamHttpError(status, 'invalid_response', 'Unexpected answer from ' + path);
  if (state == 'generating' && !(data.retry_after >= 0))
    data.retry_after = (retryAfterMs(headers, now) ?? 2000) / 1000;
  return data as StreamStatus;
};
