import { MediaMessage } from './ffmpeg-failure.js';
import { MediaError } from './media-error.js';

export interface CheckSourceOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Injected for tests; default the global `fetch`. */
  fetch?: typeof fetch | undefined;
}

export interface SourceInfo {
  /** The object's size in bytes, when the server tells it. */
  sizeBytes?: number;
  /**
   * False when the server answered the range request with the whole object (200): ffmpeg can then only read
   * the file front to back, and an MP4 with its index at the end comes out empty.
   */
  rangeSupported?: boolean;
  /** The `Content-Type` the storage declares for the object, when it says one. */
  contentType?: string;
}

function totalSize(response: Response): number | undefined {
  const range = response.headers.get('content-range');
  const match = range ? /\/(\d+)\s*$/.exec(range) : null;
  if (match?.[1] !== undefined) return Number(match[1]);
  if (response.status === 200) {
    const length = response.headers.get('content-length');
    if (length !== null && /^\d+$/.test(length)) return Number(length);
  }
  return undefined;
}

/**
 * Asks an HTTP(S) source for its first byte before ffprobe/ffmpeg read it, so the failure that matters gets a
 * precise answer (ffmpeg's own messages about HTTP are vague):
 * - network error, timeout, 5xx, 429 → `storage`, transient;
 * - 404/410 → `invalid_input`, permanent ("not found in storage");
 * - 401/403 → `storage`, permanent (the service's own freshly signed URL was refused: a configuration problem);
 * - an empty object (size 0) → `invalid_input`, permanent ("The file is empty.").
 * Anything else that answers passes; ffprobe decides the rest. Non-HTTP inputs (local paths) are not checked.
 *
 * @returns what the answer told about the object.
 */
export async function checkSource(url: string, options: CheckSourceOptions): Promise<SourceInfo> {
  if (!/^https?:\/\//i.test(url)) return {};
  const fetchImpl = options.fetch ?? fetch;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { range: 'bytes=0-0' }, signal, redirect: 'follow' });
  } catch (cause) {
    if (options.signal?.aborted) {
      throw new MediaError('aborted', MediaMessage.Aborted, {
        permanent: false,
        cause: options.signal.reason,
      });
    }
    throw new MediaError('storage', MediaMessage.SourceUnreachable, { permanent: false, cause });
  }
  const sizeBytes = totalSize(response);
  await response.body?.cancel().catch(() => undefined);
  const status = response.status;
  const cause = new Error(`source answered HTTP ${status}`);
  if (status === 404 || status === 410) {
    throw new MediaError('invalid_input', MediaMessage.SourceNotFound, { permanent: true, cause });
  }
  if (status === 401 || status === 403) {
    throw new MediaError('storage', MediaMessage.SourceDenied, { permanent: true, cause });
  }
  if (status >= 500 || status === 429 || status === 408) {
    throw new MediaError('storage', MediaMessage.SourceUnreachable, { permanent: false, cause });
  }
  if (sizeBytes === 0) throw new MediaError('invalid_input', MediaMessage.Empty, { permanent: true, cause });
  const contentType = response.headers.get('content-type') ?? undefined;
  return {
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
    ...(contentType === undefined ? {} : { contentType }),
    rangeSupported: status === 206,
  };
}
