/**
 * The one uploader of the SDK: sends a registered video's source to the presigned target the server handed out
 * (one PUT, or the parts of a multipart upload), with progress, bounded concurrency, per-request retry and part
 * URLs fetched in batches. The management client, the user client, the CLI and the web page all upload with it.
 */
import { createClock } from './clock.js';
import { StreamHttpError, StreamNetworkError } from './errors.js';
import { retryAfterMs } from './http.js';
import { backoffDelay, isRetryable } from './retry.js';
import type { RequestOptions, StreamClock } from './types.js';

/** Where to upload the source: one presigned PUT, or presigned parts of a multipart upload. */
export type UploadTarget =
  | { method: 'PUT'; url: string; headers?: Record<string, string>; expires_at: string }
  | {
      method: 'multipart';
      /** The video being uploaded: more part URLs come from its `upload/parts` route. */
      video_id?: string;
      upload_id: string;
      /** Bytes per part (the last part may be shorter). */
      part_size: number;
      /** Parts of the whole file; `parts` carries the URLs of the first ones only (at most 100). */
      part_count?: number;
      parts: { part_number: number; url: string }[];
      expires_at: string;
    };

/** Part URLs as `POST …/videos/{id}/upload/parts` answers them. */
export interface PartUrl {
  part_number: number;
  url: string;
}

export interface CompletedPart {
  part_number: number;
  etag: string;
}

/** Body of `POST …/videos/{id}/upload/complete`: `{}` for a PUT, `{ parts }` for multipart. */
export interface CompleteUploadInput {
  parts?: CompletedPart[];
}

export interface UploadProgress {
  /**
   * Bytes sent so far: stored requests, plus what the requests in flight report (the default `fetch` transport
   * reports nothing while a request sends, so it counts per finished request; `xhrPut` and `fetchPut({ stream:
   * true })` count bytes as they go). A retried request starts its count again.
   */
  loaded: number;
  total: number;
}

/** Source bytes of an upload (in Node, `fs.openAsBlob(path)` gives a file without reading it into memory). */
export type UploadSource = Blob | Uint8Array | ArrayBuffer;

/** One PUT of a body to a presigned URL, as a transport sends it. */
export interface PutRequest {
  url: string;
  body: Blob | Uint8Array;
  /** Headers the URL was signed with (send every one). */
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Call with the bytes of `body` sent so far, if the transport can tell. */
  onProgress: (sent: number) => void;
}

/** Storage's answer to a PUT. */
export interface PutAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends one PUT; rejects only when no answer came (the uploader turns that into `StreamNetworkError`). */
export type PutTransport = (request: PutRequest) => Promise<PutAnswer>;

export interface UploadOptions extends RequestOptions {
  /** Called after each stored PUT/part, and while one sends when the transport reports it. */
  onProgress?: (progress: UploadProgress) => void;
  /** Parts uploaded at the same time. Default 4. */
  concurrency?: number;
  /** Retries of one PUT/part after a network error or 5xx, with capped exponential backoff. Default 3. */
  retries?: number;
  /** How each PUT is sent. Default `fetchPut()` with the client's `fetch`; in browsers `xhrPut` reports bytes. */
  put?: PutTransport;
}

export interface UploadSourceOptions extends UploadOptions {
  fetch?: typeof fetch;
  clock?: Partial<StreamClock>;
  /**
   * Asks the server for the URLs of more parts (at most 100 at a time): a multipart target carries only the first
   * ones. The clients pass one; call their `requestPartUrls` yourself when using `uploadSource` alone.
   */
  requestParts?: (partNumbers: number[], signal: AbortSignal) => Promise<PartUrl[]>;
  /**
   * Parts storage already holds (a resumed upload: `GET …/upload` answers them): they are not sent again, count as
   * loaded from the start, and are returned with the others for `completeUpload`.
   */
  storedParts?: CompletedPart[];
}

/** Part URLs asked for at once (the server answers at most 100). */
const PART_URL_BATCH = 100;

export const byteLength = (source: Blob | Uint8Array): number =>
  source instanceof Uint8Array ? source.byteLength : source.size;

/**
 * The default transport: `fetch`. With `stream: true` (Node 20+, not browsers) the body goes as a counted stream
 * with its `content-length`, so progress is reported while it sends.
 * @example
 * await uploadSource(upload, await fs.openAsBlob(file), { put: fetchPut({ stream: true }), onProgress });
 */
export const fetchPut =
  (options: { fetch?: typeof fetch; stream?: boolean } = {}): PutTransport =>
  async ({ url, body, headers, signal, onProgress }) => {
    let init: RequestInit = { method: 'PUT', body: body as BodyInit, headers, signal };
    const size = byteLength(body);
    if (options.stream && size > 0) {
      let sent = 0;
      const source = (body instanceof Uint8Array ? new Blob([body as BlobPart]) : body).stream();
      const counted = source.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          // In slices of at most 64 KiB: an in-memory body comes as one chunk, and would count all at once.
          transform(chunk, controller) {
            for (let at = 0; at < chunk.byteLength; at += 65536) {
              const slice = chunk.subarray(at, at + 65536);
              sent += slice.byteLength;
              onProgress(sent);
              controller.enqueue(slice);
            }
          },
        }),
      );
      init = {
        ...init,
        body: counted,
        headers: { ...headers, 'content-length': String(size) },
        duplex: 'half',
      } as RequestInit;
    }
    const res = await (options.fetch ?? fetch)(url, init);
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

/**
 * A browser transport over XMLHttpRequest, which (unlike `fetch`) reports upload progress byte by byte.
 * Storage must expose `ETag` to the page's origin (CORS) for multipart uploads.
 */
export const xhrPut: PutTransport = ({ url, body, headers, signal, onProgress }) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      const answer = new Headers();
      for (const line of xhr
        .getAllResponseHeaders()
        .trim()
        .split(/[\r\n]+/)) {
        const at = line.indexOf(':');
        if (at > 0) answer.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      resolve({ status: xhr.status, headers: answer, text: xhr.responseText });
    };
    xhr.onerror = () => reject(new TypeError('XMLHttpRequest failed'));
    xhr.onabort = () => reject(signal.reason);
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body as XMLHttpRequestBodyInit);
  });

/**
 * Uploads `source` to the target a registration returned: one PUT, or every part of a multipart upload
 * (bounded concurrency, per-part retry, the URLs of parts past the first batch from `requestParts`). Returns what
 * `completeUpload` expects. Presigned URLs carry their own authorisation, so no credential is sent.
 * @example
 * const { video, upload } = await manage.registerVideo({ owner_id, size_bytes: file.size });
 * await manage.completeUpload(video.id, await uploadSource(upload, file, { onProgress: console.log }));
 */
export const uploadSource = async (
  upload: UploadTarget,
  data: UploadSource,
  options: UploadSourceOptions = {},
): Promise<CompleteUploadInput> => {
  const { signal: outer, onProgress, concurrency = 4, retries = 3 } = options;
  const send = options.put ?? fetchPut({ fetch: options.fetch });
  const clock = createClock(options.clock);
  const source = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  const total = byteLength(source);
  let stored = 0;
  const inFlight = new Map<number, number>();
  const report = (): void => {
    let loaded = stored;
    for (const sent of inFlight.values()) loaded += sent;
    onProgress?.({ loaded: Math.min(loaded, total), total });
  };
  outer?.throwIfAborted();
  const controller = new AbortController();
  const signal = controller.signal;
  const abort = (): void => controller.abort(outer!.reason);
  outer?.addEventListener('abort', abort);

  /** PUTs one body (request `key`: 0 for a single PUT, else the part number) and returns the answer's ETag. */
  const put = async (
    key: number,
    url: string,
    body: Blob | Uint8Array,
    headers: Record<string, string> = {},
  ) => {
    for (let failures = 0; ;) {
      try {
        let res: PutAnswer;
        try {
          res = await send({
            url,
            body,
            headers,
            signal,
            onProgress: (sent) => {
              if (signal.aborted) return;
              inFlight.set(key, Math.min(sent, byteLength(body)));
              report();
            },
          });
        } catch (error) {
          signal.throwIfAborted();
          throw new StreamNetworkError(error);
        } finally {
          inFlight.delete(key);
        }
        // A create-only PUT retried after a lost answer: the earlier attempt stored it (completion checks its size).
        const storedBefore = res.status == 412 && failures > 0 && headers['if-none-match'] == '*';
        if ((res.status < 200 || res.status > 299) && !storedBefore) {
          // S3-compatible stores answer errors as XML: <Error><Code>…</Code><Message>…</Message></Error>.
          throw new StreamHttpError(
            res.status,
            /<Code>([^<]+)/.exec(res.text)?.[1] ?? 'http_' + res.status,
            /<Message>([^<]+)/.exec(res.text)?.[1] ?? `Upload failed with HTTP ${res.status}`,
            retryAfterMs(res.headers, clock.now),
          );
        }
        stored += byteLength(body);
        report();
        return res.headers.get('etag');
      } catch (error) {
        signal.throwIfAborted();
        if (!isRetryable(error) || ++failures > retries) throw error;
        await clock.sleep(backoffDelay(error, failures, 500, 8000, clock.random), signal);
      }
    }
  };

  try {
    if (upload.method == 'PUT') {
      await put(0, upload.url, source, upload.headers);
      return {};
    }
    const { part_size: size, parts: targets } = upload;
    const count = upload.part_count ?? targets.length;
    if (count != Math.max(1, Math.ceil(total / size)))
      throw new RangeError(`Source is ${total} bytes but the upload expects ${count} parts of ${size} bytes`);
    const urls = new Map(targets.map((t) => [t.part_number, t.url]));
    const partLength = (n: number): number => Math.min(size, total - (n - 1) * size);
    const parts: CompletedPart[] = (options.storedParts ?? []).filter((p) => p.part_number <= count);
    const done = new Set(parts.map((p) => p.part_number));
    for (const n of done) stored += partLength(n);
    if (done.size) report();
    let fetching: Promise<void> | undefined;
    // The URL of part `n`; past the first batch, the next batch is asked for (one request at a time).
    const urlOf = async (n: number): Promise<string> => {
      while (!urls.has(n)) {
        if (!fetching) {
          if (!options.requestParts)
            throw new RangeError(`No URL for part ${n}: pass requestParts to fetch more part URLs`);
          const batch = Array.from({ length: Math.min(PART_URL_BATCH, count - n + 1) }, (_, i) => n + i);
          fetching = options
            .requestParts(batch, signal)
            .then((more) => {
              for (const p of more) urls.set(p.part_number, p.url);
              if (!urls.has(n)) throw new RangeError(`The server gave no URL for part ${n}`);
            })
            .finally(() => {
              fetching = undefined;
            });
        }
        await fetching;
      }
      const url = urls.get(n)!;
      urls.delete(n);
      return url;
    };
    let next = 1;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      for (let number = next++; number <= count && !failure; number = next++) {
        if (done.has(number)) continue;
        const start = (number - 1) * size;
        const body =
          source instanceof Uint8Array
            ? source.subarray(start, start + size)
            : source.slice(start, start + size);
        try {
          let etag: string | null;
          try {
            etag = await put(number, await urlOf(number), body);
          } catch (error) {
            // An expired part URL (storage answers 403): ask the server for a fresh one, once.
            if ((error as StreamHttpError).status != 403 || !options.requestParts) throw error;
            urls.delete(number);
            etag = await put(number, await urlOf(number), body);
          }
          if (!etag)
            throw new StreamHttpError(200, 'missing_etag', 'Part stored but no ETag header is readable');
          parts.push({ part_number: number, etag });
        } catch (error) {
          failure ??= { error };
          controller.abort(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    if (failure) throw failure.error;
    return { parts: parts.sort((a, b) => a.part_number - b.part_number) };
  } catch (error) {
    outer?.throwIfAborted();
    throw error;
  } finally {
    outer?.removeEventListener('abort', abort);
    controller.abort();
  }
};
