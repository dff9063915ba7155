/**
 * Management API of a Notetaker Stream server, for trusted backends holding the service API key.
 * A separate entry point (`@notetaker/client-sdk/server`) so browser bundles never carry it.
 */
import { captionCalls, type CaptionSource, type PutCaptionOptions } from './captions.js';
import { chapterCalls, type ChaptersSource } from './chapters.js';
import { createClock } from './clock.js';
import { createSend } from './http.js';
import { allPages, collectPages, pageQuery, type PageOptions, type VideoPage } from './pages.js';
import { toStreamStatus } from './stream-status.js';
import {
  webhookCalls,
  type RotatedWebhookSecret,
  type WebhookEndpoint,
  type WebhookEndpointInput,
  type WebhookEndpointWithSecret,
} from './webhooks.js';
import type {
  Caption,
  Chapter,
  RequestOptions,
  VideoAnalytics,
  StreamClock,
  StreamGenerating,
  StreamStatus,
  UploadState,
  Video,
  VideoPatch,
} from './types.js';
import {
  byteLength,
  uploadSource,
  type CompleteUploadInput,
  type PartUrl,
  type UploadOptions,
  type UploadSource,
  type UploadSourceOptions,
  type UploadTarget,
} from './upload.js';

export { fetchPut, uploadSource } from './upload.js';
export type {
  CompletedPart,
  CompleteUploadInput,
  PartUrl,
  PutAnswer,
  PutRequest,
  PutTransport,
  UploadOptions,
  UploadProgress,
  UploadSource,
  UploadSourceOptions,
  UploadTarget,
} from './upload.js';
export type { CaptionSource, PutCaptionOptions } from './captions.js';
export type { PageOptions, VideoPage } from './pages.js';
export type { ChaptersSource } from './chapters.js';
export { verifyWebhook, WebhookVerificationError } from './webhooks.js';
export type {
  RotatedWebhookSecret,
  VerifyWebhookOptions,
  WebhookEndpoint,
  WebhookEndpointInput,
  WebhookEndpointWithSecret,
  WebhookEvent,
  WebhookEventType,
} from './webhooks.js';

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
  Chapter,
  ChapterList,
  VideoAnalytics,
  RequestOptions,
  StreamClock,
  StreamFailed,
  StreamGenerating,
  StreamReady,
  StreamStatus,
  UploadInstructions,
  UploadState,
  Video,
  VideoPatch,
} from './types.js';

/** Which page of the management list, and (optionally) whose videos. */
export interface ManagePageOptions extends PageOptions {
  /** Only this user's videos; omitted: every owner's. */
  owner_id?: string;
}

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
  /** Your own id for the video (e.g. your recording's id), unique per owner: a taken one rejects with 409. */
  external_id?: string;
  /** A JSON object of your own (e.g. `{ meeting_id }`), at most 4 KB; it comes back in every video and webhook. */
  metadata?: Record<string, unknown>;
}

export interface ImportVideoInput {
  owner_id: string;
  /** Key of an object already in the bucket, e.g. `videos/{owner}/{id}.mp4`. */
  source_key: string;
  title?: string;
  /** Your own id for the video, unique per owner. */
  external_id?: string;
  /** A JSON object of your own, at most 4 KB. */
  metadata?: Record<string, unknown>;
}

export interface RegisteredVideo {
  video: Video;
  upload: UploadTarget;
}

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
  /** Where a pending upload stands: the parts storage holds and fresh URLs for the rest (`GET …/upload`). */
  uploadState(id: string, options?: RequestOptions): Promise<UploadState>;
  /** Aborts a pending upload: storage frees its parts and the video is removed (`DELETE …/upload`). */
  abortUpload(id: string, options?: RequestOptions): Promise<void>;
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
  /** All videos of one owner, newest first (every page, fetched one after another). */
  listVideos(ownerId: string, options?: RequestOptions): Promise<Video[]>;
  /**
   * One page of videos, newest first: one owner's with `owner_id`, every owner's without
   * (`GET /api/manage/videos?owner_id=&limit=&cursor=`).
   */
  listVideosPage(options?: ManagePageOptions): Promise<VideoPage>;
  /**
   * Videos, newest first, as an async iterator over every page: one owner's with `owner_id`, every owner's without.
   * @example
   * for await (const video of manage.videos({ owner_id: 'user-1' })) console.log(video.id);
   */
  videos(options?: ManagePageOptions): AsyncGenerator<Video, void, undefined>;
  /** Deletes the video, its source and its HLS output. */
  deleteVideo(id: string, options?: RequestOptions): Promise<void>;
  /**
   * Changes a video's title, external id or metadata; fields not given stay, `null` removes, `metadata` replaces the
   * whole object. An external id another of the owner's videos has rejects with `StreamHttpError` 409.
   * @example
   * await manage.updateVideo(video.id, { title: 'Weekly sync', metadata: { meeting_id: 'm-42' } });
   */
  updateVideo(id: string, patch: VideoPatch, options?: RequestOptions): Promise<Video>;
  /**
   * The owner's video with this external id, or `undefined` when they have none.
   * @example
   * const video = await manage.videoByExternalId('user-1', recording.id);
   */
  videoByExternalId(
    ownerId: string,
    externalId: string,
    options?: RequestOptions,
  ): Promise<Video | undefined>;
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
  /**
   * Sets (replaces) the video's chapters: a list sorted by start with unique starts, the first at 0, titles of 1–200
   * characters, at most 500 — or the text or bytes of a WebVTT `kind=chapters` file. A list the server refuses rejects
   * with `StreamHttpError` 400 naming the problem. Once a video has chapters, its ready `/stream` answers carry
   * `chapters_url`. An empty list removes them.
   * @example
   * await manage.putChapters(video.id, [{ start_seconds: 0, title: 'Intro' }, { start_seconds: 95, title: 'Budget' }]);
   */
  putChapters(videoId: string, chapters: ChaptersSource, options?: RequestOptions): Promise<Chapter[]>;
  /** The video's chapters, sorted by start (empty when it has none). */
  getChapters(videoId: string, options?: RequestOptions): Promise<Chapter[]>;
  /** Deletes the video's chapters (`StreamHttpError` 404 when it has none). */
  deleteChapters(videoId: string, options?: RequestOptions): Promise<void>;
  /**
   * The video's watch analytics: views, unique viewers, watch time, completion, the retention curve, rewind hotspots,
   * startup median and p95, rebuffer ratio, failure rate.
   * @example
   * const { retention, completion_rate } = await manage.getAnalytics(video.id);
   */
  getAnalytics(videoId: string, options?: RequestOptions): Promise<VideoAnalytics>;
  /**
   * Registers a webhook endpoint with an event filter (`events`, omitted for every event). The answer carries its
   * signing secret (`whsec_…`) this once: store it, and verify deliveries with `verifyWebhook`.
   * @example
   * const { id, secret } = await manage.createWebhook({ url: 'https://app.example.com/hooks', events: ['video.hls.ready'] });
   */
  createWebhook(input: WebhookEndpointInput, options?: RequestOptions): Promise<WebhookEndpointWithSecret>;
  /** Every registered webhook endpoint, oldest first (without secrets). */
  listWebhooks(options?: RequestOptions): Promise<WebhookEndpoint[]>;
  /** One webhook endpoint (without its secret). */
  getWebhook(id: string, options?: RequestOptions): Promise<WebhookEndpoint>;
  /**
   * Changes an endpoint's URL, events, description or `enabled`; only the fields given change. Disabling it gives up
   * its pending deliveries.
   */
  updateWebhook(
    id: string,
    changes: Partial<WebhookEndpointInput>,
    options?: RequestOptions,
  ): Promise<WebhookEndpoint>;
  /** Deletes an endpoint; its pending deliveries are never sent. */
  deleteWebhook(id: string, options?: RequestOptions): Promise<void>;
  /** A new secret for the endpoint (answered once); the old one keeps signing beside it for 24 hours. */
  rotateWebhookSecret(id: string, options?: RequestOptions): Promise<RotatedWebhookSecret>;
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
  const listVideosPage = async (o: ManagePageOptions = {}): Promise<VideoPage> => {
    const owner = o.owner_id === undefined ? '' : '?owner_id=' + encodeURIComponent(o.owner_id);
    return (await send('GET', '/api/manage/videos' + owner + pageQuery(o, owner ? '&' : '?'), o.signal)).data;
  };
  const path = (id: string, rest = ''): string => `/api/manage/videos/${encodeURIComponent(id)}${rest}`;
  const uploadOptions = (
    upload: UploadTarget,
    o: UploadOptions = {},
    videoId?: string,
  ): UploadSourceOptions => {
    const id = videoId ?? (upload.method === 'multipart' ? upload.video_id : undefined);
    return {
      fetch: options.fetch,
      clock: options.clock,
      ...(id === undefined
        ? {}
        : {
            requestParts: (numbers: number[], signal: AbortSignal) =>
              client.requestPartUrls(id, numbers, { signal }),
          }),
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
    uploadState: async (id, o = {}) => (await send('GET', path(id, '/upload'), o.signal)).data,
    abortUpload: async (id, o = {}) => {
      await send('DELETE', path(id, '/upload'), o.signal);
    },
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
    listVideos: (ownerId, o = {}) => collectPages(listVideosPage, { ...o, owner_id: ownerId }),
    listVideosPage,
    videos: (o = {}) => allPages(listVideosPage, o),
    deleteVideo: async (id, o = {}) => {
      await send('DELETE', path(id), o.signal);
    },
    updateVideo: async (id, patch, o = {}) => (await send('PATCH', path(id), o.signal, patch)).data,
    videoByExternalId: async (ownerId, externalId, o = {}) =>
      (await listVideosPage({ ...o, owner_id: ownerId, external_id: externalId, limit: 1 })).videos[0],
    generateStream: (id, o = {}) => toStreamStatus(send, 'POST', path(id, '/hls'), o.signal, clock.now),
    deleteStream: async (id, o = {}) => {
      await send('DELETE', path(id, '/hls'), o.signal);
    },
    retryStream: (id, o = {}) =>
      toStreamStatus(send, 'POST', path(id, '/hls/retry'), o.signal, clock.now) as Promise<StreamGenerating>,
    ...captionCalls(send, path),
    ...chapterCalls(send, path),
    ...webhookCalls(send),
  };
  return client;
};
