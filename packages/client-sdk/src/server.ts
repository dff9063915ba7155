/**
 * Management API of a Notetaker Stream server, for trusted backends holding the service API key.
 * A separate entry point (`@notetaker/client-sdk/server`) so browser bundles never carry it.
 */
import { createClock } from './clock.js';
import { StreamHttpError, StreamNetworkError } from './errors.js';
import { createSend, retryAfterMs } from './http.js';
import { backoffDelay, isRetryable } from './retry.js';
import { toStreamStatus } from './stream-status.js';
import type { Caption, RequestOptions, StreamClock, StreamGenerating, StreamStatus, Video } from './types.js';

export {
  StreamError,
  StreamFailedError,
  StreamHttpError,
  StreamNetworkError,
  StreamTimeoutError,
  isStreamError,
} from './errors.js';
export type { AnyStreamError, StreamErrorCode } from './errors.js';
export type {
  Caption,
  RequestOptions,
  StreamClock,
  StreamFailed,
  StreamGenerating,
  StreamReady,
  StreamStatus,
  UploadInstructions,
  Video,
} from './types.js';

export interface ManagementClientOptions {
  /** Origin (and optional path prefix) of the stream server. */
  baseUrl: string;
  /** The server's `SERVICE_API_KEY`. Keep it on the server. */
  apiKey: string;
  /** `fetch` to use for the API and for uploads; defaults to the global one at call time. */
  fetch?: typeof fetch;
  /** Time source for upload retry backoff (tests). */
  clock?: Partial<StreamClock>;
}

export interface RegisterVideoInput {
  /** User id of the owner: the `sub` of the user tokens that may watch it. */
  owner_id: string;
  title?: string;
  content_type?: string;
  /** Size of the source; above the server's multipart threshold the upload target is multipart. */
  size_bytes?: number;
}

export interface ImportVideoInput {
  owner_id: string;
  /** Key of an object already in the bucket, e.g. `videos/{owner}/{id}.mp4`. */
  source_key: string;
  title?: string;
}

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

/** Part URLs as `POST /api/manage/videos/{id}/upload/parts` answers them. */
export interface PartUrl {
  part_number: number;
  url: string;
}

export interface RegisteredVideo {
  video: Video;
  upload: UploadTarget;
}

export interface CompletedPart {
  part_number: number;
  etag: string;
}

/** Body of `POST /api/manage/videos/{id}/upload/complete`: `{}` for a PUT, `{ parts }` for multipart. */
export interface CompleteUploadInput {
  parts?: CompletedPart[];
}

export interface UploadProgress {
  /** Bytes stored so far (counted per finished request: `fetch` reports no upload progress). */
  loaded: number;
  total: number;
}

/** Source bytes of an upload. */
export type UploadSource = Blob | Uint8Array | ArrayBuffer;

export interface UploadOptions extends RequestOptions {
  /** Called after the PUT, or after each stored part of a multipart upload. */
  onProgress?: (progress: UploadProgress) => void;
  /** Parts uploaded at the same time. Default 4. */
  concurrency?: number;
  /** Retries of one PUT/part after a network error or 5xx, with capped exponential backoff. Default 3. */
  retries?: number;
}

export interface UploadSourceOptions extends UploadOptions {
  fetch?: typeof fetch;
  clock?: Partial<StreamClock>;
  /**
   * Asks the server for the URLs of more parts (at most 100 at a time): a multipart target carries only the first
   * ones. The management client passes one; call `requestPartUrls` yourself when using `uploadSource` alone.
   */
  requestParts?: (partNumbers: number[], signal: AbortSignal) => Promise<PartUrl[]>;
}

/** Part URLs asked for at once (the server answers at most 100). */
const PART_URL_BATCH = 100;

/** A WebVTT file: its text, or its bytes (UTF-8). */
export type CaptionSource = string | Blob | Uint8Array | ArrayBuffer;

export interface PutCaptionOptions extends RequestOptions {
  /** What players show in their captions menu; default: the language's English name (kept on replace when absent). */
  label?: string;
  /** `true` shows this track without the viewer choosing (the video's other tracks lose it); kept on replace when absent. */
  default?: boolean;
}

const byteLength = (source: Blob | Uint8Array): number =>
  source instanceof Uint8Array ? source.byteLength : source.size;

/**
 * Uploads `source` to the target returned by `registerVideo`: one PUT, or every part of a multipart upload
 * (bounded concurrency, per-part retry). Returns what `completeUpload` expects. Presigned URLs carry their own
 * authorisation, so no API key is sent.
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
  const clock = createClock(options.clock);
  const source = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
  const total = byteLength(source);
  let loaded = 0;
  outer?.throwIfAborted();
  const controller = new AbortController();
  const signal = controller.signal;
  const abort = (): void => controller.abort(outer!.reason);
  outer?.addEventListener('abort', abort);

  const put = async (url: string, body: Blob | Uint8Array, headers?: Record<string, string>) => {
    for (let failures = 0; ;) {
      try {
        let res: Response;
        try {
          res = await (options.fetch ?? fetch)(url, {
            method: 'PUT',
            body: body as BodyInit,
            headers,
            signal,
          });
        } catch (error) {
          throw new StreamNetworkError(error);
        }
        const text = await res.text();
        // A create-only PUT retried after a lost answer: the earlier attempt stored it (completion checks its size).
        const storedBefore = res.status == 412 && failures > 0 && headers?.['if-none-match'] == '*';
        if (!res.ok && !storedBefore) {
          // S3-compatible stores answer errors as XML: <Error><Code>…</Code><Message>…</Message></Error>.
          throw new StreamHttpError(
            res.status,
            /<Code>([^<]+)/.exec(text)?.[1] ?? 'http_' + res.status,
            /<Message>([^<]+)/.exec(text)?.[1] ?? `Upload failed with HTTP ${res.status}`,
            retryAfterMs(res.headers, clock.now),
          );
        }
        loaded += byteLength(body);
        onProgress?.({ loaded, total });
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
      await put(upload.url, source, upload.headers);
      return {};
    }
    const { part_size: size, parts: targets } = upload;
    const count = upload.part_count ?? targets.length;
    if (count != Math.max(1, Math.ceil(total / size)))
      throw new RangeError(`Source is ${total} bytes but the upload expects ${count} parts of ${size} bytes`);
    const urls = new Map(targets.map((t) => [t.part_number, t.url]));
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
    const parts: CompletedPart[] = [];
    let next = 1;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      for (let number = next++; number <= count && !failure; number = next++) {
        const start = (number - 1) * size;
        const body =
          source instanceof Uint8Array
            ? source.subarray(start, start + size)
            : source.slice(start, start + size);
        try {
          const etag = await put(await urlOf(number), body);
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

export interface ManagementClient {
  /**
   * Registers a video and returns where to upload its source.
   * @example
   * const { video, upload } = await manage.registerVideo({ owner_id: 'user-1', title: 'Demo', size_bytes: 1234 });
   */
  registerVideo(input: RegisterVideoInput, options?: RequestOptions): Promise<RegisteredVideo>;
  /** `uploadSource` with this client's `fetch` and clock. */
  uploadSource(
    upload: UploadTarget,
    source: UploadSource,
    options?: UploadOptions,
  ): Promise<CompleteUploadInput>;
  /** URLs for more parts of a multipart upload (at most 100 part numbers at a time). */
  requestPartUrls(id: string, partNumbers: number[], options?: RequestOptions): Promise<PartUrl[]>;
  /** Marks the upload complete (multipart: assembles the parts). */
  completeUpload(id: string, input?: CompleteUploadInput, options?: RequestOptions): Promise<Video>;
  /**
   * Register + upload + complete in one call. `size_bytes` and (for a Blob) `content_type` come from the source.
   * If the upload fails the video stays registered with `upload_status: "pending"`.
   * @example
   * const video = await manage.uploadVideo({ owner_id: 'user-1', title: 'Demo' }, file, { onProgress });
   */
  uploadVideo(
    input: Omit<RegisterVideoInput, 'size_bytes'>,
    source: UploadSource,
    options?: UploadOptions,
  ): Promise<Video>;
  /** Registers an object that is already in the bucket. */
  importVideo(input: ImportVideoInput, options?: RequestOptions): Promise<Video>;
  /** Videos of one owner. */
  listVideos(ownerId: string, options?: RequestOptions): Promise<Video[]>;
  /** Deletes the video, its source and its HLS output. */
  deleteVideo(id: string, options?: RequestOptions): Promise<void>;
  /** Starts HLS generation ahead of the first view (`generating`), or reports it `ready`. */
  generateStream(id: string, options?: RequestOptions): Promise<StreamStatus>;
  /** Deletes the HLS output (the next view generates it again). */
  deleteStream(id: string, options?: RequestOptions): Promise<void>;
  /** Restarts a failed generation. */
  retryStream(id: string, options?: RequestOptions): Promise<StreamGenerating>;
  /**
   * Adds or replaces the caption track of `language` (a BCP 47 tag such as `en` or `pt-BR`). The server checks the
   * WebVTT: a malformed file rejects with `StreamHttpError` 400 whose message names the line; over 1 MiB, 413. Once a
   * video has a caption track, its `/stream` answers hand out a master playlist that carries it.
   * @example
   * await manage.putCaption(video.id, 'en', await readFile('captions.vtt', 'utf8'), { default: true });
   */
  putCaption(
    videoId: string,
    language: string,
    vtt: CaptionSource,
    options?: PutCaptionOptions,
  ): Promise<Caption>;
  /** The video's caption tracks. */
  listCaptions(videoId: string, options?: RequestOptions): Promise<Caption[]>;
  /** Deletes the caption track of `language` (its file too). */
  deleteCaption(videoId: string, language: string, options?: RequestOptions): Promise<void>;
}

/**
 * Creates a client for the management API.
 * @example
 * import { createManagementClient } from '@notetaker/client-sdk/server';
 * const manage = createManagementClient({ baseUrl: process.env.STREAM_URL!, apiKey: process.env.STREAM_API_KEY! });
 * const video = await manage.uploadVideo({ owner_id: user.id, title: 'Demo' }, bytes);
 */
export const createManagementClient = (options: ManagementClientOptions): ManagementClient => {
  const clock = createClock(options.clock);
  const send = createSend(options.baseUrl, () => options.apiKey, false, options.fetch, clock.now);
  const path = (id: string, rest = '') => `/api/manage/videos/${encodeURIComponent(id)}${rest}`;
  const uploadOptions = (upload: UploadTarget, o: UploadOptions = {}, videoId?: string): UploadSourceOptions => {
    const id = videoId ?? (upload.method === 'multipart' ? upload.video_id : undefined);
    return {
      fetch: options.fetch,
      clock: options.clock,
      ...(id === undefined
        ? {}
        : { requestParts: (numbers: number[], signal: AbortSignal) => client.requestPartUrls(id, numbers, { signal }) }),
      ...o,
    };
  };

  const client: ManagementClient = {
    registerVideo: async (input, o = {}) => (await send('POST', '/api/manage/videos', o.signal, input)).data,
    uploadSource: (upload, source, o) => uploadSource(upload, source, uploadOptions(upload, o)),
    requestPartUrls: async (id, partNumbers, o = {}) =>
      (await send('POST', path(id, '/upload/parts'), o.signal, { part_numbers: partNumbers })).data.parts,
    completeUpload: async (id, input = {}, o = {}) =>
      (await send('POST', path(id, '/upload/complete'), o.signal, input)).data,
    async uploadVideo(input, data, o = {}) {
      const source = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      const type = source instanceof Uint8Array ? undefined : source.type || undefined;
      const { video, upload } = await client.registerVideo(
        { content_type: type, ...input, size_bytes: byteLength(source) },
        o,
      );
      const done = await uploadSource(upload, source, uploadOptions(upload, o, video.id));
      return client.completeUpload(video.id, done, o);
    },
    importVideo: async (input, o = {}) =>
      (await send('POST', '/api/manage/videos/import', o.signal, input)).data,
    listVideos: async (ownerId, o = {}) =>
      (await send('GET', '/api/manage/videos?owner_id=' + encodeURIComponent(ownerId), o.signal)).data.videos,
    deleteVideo: async (id, o = {}) => {
      await send('DELETE', path(id), o.signal);
    },
    generateStream: (id, o = {}) => toStreamStatus(send, 'POST', path(id, '/hls'), o.signal, clock.now),
    deleteStream: async (id, o = {}) => {
      await send('DELETE', path(id, '/hls'), o.signal);
    },
    retryStream: (id, o = {}) =>
      toStreamStatus(send, 'POST', path(id, '/hls/retry'), o.signal, clock.now) as Promise<StreamGenerating>,
    async putCaption(id, language, vtt, o = {}) {
      const query = new URLSearchParams();
      if (o.label != null) query.set('label', o.label);
      if (o.default != null) query.set('default', String(o.default));
      const body = vtt instanceof ArrayBuffer ? new Uint8Array(vtt) : vtt;
      const search = String(query);
      const rest = `/captions/${encodeURIComponent(language)}${search ? '?' + search : ''}`;
      return (await send('PUT', path(id, rest), o.signal, body, 'text/vtt; charset=utf-8')).data;
    },
    listCaptions: async (id, o = {}) => (await send('GET', path(id, '/captions'), o.signal)).data.captions,
    deleteCaption: async (id, language, o = {}) => {
      await send('DELETE', path(id, '/captions/' + encodeURIComponent(language)), o.signal);
    },
  };
  return client;
};
