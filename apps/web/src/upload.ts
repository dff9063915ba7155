import { isStreamError, uploadSource, xhrPut } from '@notetaker/client-sdk/user';

import type { PageApi, UploadedPart, UploadInstructions } from './api.js';

/** Parts in flight at once for multipart uploads. */
const PART_CONCURRENCY = 3;

/** A PUT that storage refused, or that never reached it. */
export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Uploads a file straight to storage following the API's instructions with the SDK's uploader: one presigned PUT,
 * or presigned parts (a few at a time, each retried after a network error or a 5xx) whose ETags the caller sends to
 * `upload/complete`; URLs of parts past the first batch come from the API as the upload goes. XMLHttpRequest sends
 * each body (fetch has no upload progress); `onProgress` gets the fraction sent (0–1).
 */
export async function uploadToStorage(
  api: PageApi,
  videoId: string,
  file: Blob,
  upload: UploadInstructions,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<UploadedPart[] | undefined> {
  try {
    const done = await uploadSource(upload, file, {
      put: xhrPut,
      concurrency: PART_CONCURRENCY,
      signal,
      requestParts: (numbers, partSignal) => api.requestParts(videoId, numbers, partSignal),
      onProgress: ({ loaded }) => onProgress(loaded / Math.max(file.size, 1)),
    });
    return done.parts;
  } catch (error) {
    // API calls fail as ApiRequestError; the SDK's own errors here are storage answering (or not) a PUT.
    if (!isStreamError(error)) throw error;
    if (error.code === 'missing_etag') {
      throw new UploadError('Storage did not expose the ETag header (check the bucket CORS rule).', 0);
    }
    throw error.status === undefined
      ? new UploadError('The upload did not reach storage (network error, or a bucket without CORS).', 0)
      : new UploadError(`Storage refused the upload (HTTP ${error.status}).`, error.status);
  }
}
