import { uploadFile, xhrPut, type UploadHandle } from '@notetaker/client-sdk/uploader';
import { isStreamError } from '@notetaker/client-sdk/user';

import { ApiRequestError, type PageApi } from './api.js';

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
 * Starts the upload of a dropped file with the SDK's resumable uploader: registration, parts sent straight to
 * storage a few at a time (XMLHttpRequest reports bytes as they go), retries, and after a lost network a resume
 * from the parts the server holds. The video id is kept in `localStorage`, so dropping the same file again after a
 * reload resumes it. `onProgress` gets the fraction sent (0–1).
 */
export function startUpload(api: PageApi, file: File, onProgress: (fraction: number) => void): UploadHandle {
  return uploadFile({
    api: api.uploads,
    file,
    register: { title: file.name, content_type: file.type || 'application/octet-stream' },
    put: xhrPut,
    onProgress: ({ loaded }) => onProgress(loaded / Math.max(file.size, 1)),
  });
}

/** Words a failed upload for the page: storage's refusals and unreachable storage, or the API's answer. */
export function describeUploadError(error: unknown): Error {
  if (!isStreamError(error)) return error instanceof Error ? error : new Error(String(error));
  if (error.code === 'missing_etag') {
    return new UploadError('Storage did not expose the ETag header (check the bucket CORS rule).', 0);
  }
  // Storage never answers 401: that is the API refusing the session (the page signs out).
  if (error.status === 401) return new ApiRequestError(401, error.code, error.message);
  if (error.status === undefined) {
    return new UploadError('The upload did not reach storage (network error, or a bucket without CORS).', 0);
  }
  return new UploadError(error.message || `The upload was refused (HTTP ${error.status}).`, error.status);
}
