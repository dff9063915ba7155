import type { UploadedPart, UploadInstructions } from './api.js';

/** Parts in flight at once for multipart uploads. */
const PART_CONCURRENCY = 3;

/** Part URLs asked for at once (the API answers at most 100). */
const PART_URL_BATCH = 100;

/** Asks the API for the URLs of more parts (`POST /api/videos/{id}/upload/parts`). */
export type RequestPartUrls = (partNumbers: number[]) => Promise<Array<{ part_number: number; url: string }>>;

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
 * Sends one body with XMLHttpRequest (fetch has no upload progress) and resolves with the answer's ETag.
 */
function put(
  url: string,
  body: Blob,
  headers: Record<string, string>,
  onProgress: (loaded: number) => void,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve(xhr.getResponseHeader('ETag') ?? '');
      } else {
        reject(new UploadError(`Storage refused the upload (HTTP ${xhr.status}).`, xhr.status));
      }
    };
    xhr.onerror = () =>
      reject(
        new UploadError('The upload did not reach storage (network error, or a bucket without CORS).', 0),
      );
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/**
 * Uploads a file straight to storage following the API's instructions: one presigned PUT, or presigned parts
 * (a few at a time) whose ETags the caller sends to `upload/complete`; URLs of parts past the first batch come
 * from `requestParts` as the upload goes. `onProgress` gets the fraction sent (0–1).
 */
export async function uploadToStorage(
  file: Blob,
  upload: UploadInstructions,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
  requestParts?: RequestPartUrls,
): Promise<UploadedPart[] | undefined> {
  const total = Math.max(file.size, 1);
  if (upload.method === 'PUT') {
    await put(upload.url, file, upload.headers, (loaded) => onProgress(loaded / total), signal);
    return undefined;
  }
  // One failed part stops the others.
  const inner = new AbortController();
  const stop = () => inner.abort();
  signal.addEventListener('abort', stop, { once: true });
  const loaded = new Map<number, number>();
  const report = () => onProgress([...loaded.values()].reduce((a, b) => a + b, 0) / total);
  const parts: UploadedPart[] = [];
  const urls = new Map(upload.parts.map((p) => [p.part_number, p.url]));
  let fetching: Promise<void> | undefined;
  /** The URL of part `n`, asking for the next batch when it is not known yet (one request at a time). */
  const urlOf = async (n: number): Promise<string> => {
    while (!urls.has(n)) {
      if (!fetching) {
        if (!requestParts) throw new UploadError(`No upload URL for part ${n}.`, 0);
        const batch = Array.from({ length: Math.min(PART_URL_BATCH, upload.part_count - n + 1) }, (_, i) => n + i);
        fetching = requestParts(batch).then(
          (more) => {
            for (const p of more) urls.set(p.part_number, p.url);
            if (!urls.has(n)) throw new UploadError(`The server gave no URL for part ${n}.`, 0);
          },
        ).finally(() => {
          fetching = undefined;
        });
      }
      await fetching;
    }
    const url = urls.get(n)!;
    urls.delete(n);
    return url;
  };
  let nextPart = 1;
  const worker = async () => {
    for (let number = nextPart++; number <= upload.part_count; number = nextPart++) {
      inner.signal.throwIfAborted();
      const start = (number - 1) * upload.part_size;
      const slice = file.slice(start, Math.min(file.size, start + upload.part_size));
      const etag = await put(
        await urlOf(number),
        slice,
        {},
        (bytes) => {
          loaded.set(number, bytes);
          report();
        },
        inner.signal,
      );
      if (!etag)
        throw new UploadError('Storage did not expose the ETag header (check the bucket CORS rule).', 0);
      parts.push({ part_number: number, etag });
    }
  };
  try {
    await Promise.all(
      Array.from({ length: Math.min(PART_CONCURRENCY, upload.part_count) }, () =>
        worker().catch((error: unknown) => {
          stop();
          throw error;
        }),
      ),
    );
  } finally {
    signal.removeEventListener('abort', stop);
  }
  return parts.sort((a, b) => a.part_number - b.part_number);
}
