/**
 * The user API of a Notetaker Stream server with a user's token: what `createStreamClient` does (the `/stream`
 * contract, the caller's videos), plus the user's own uploads (when the server has `USER_UPLOADS`), captions and
 * the local sign-in (`DEV_LOGIN`). A separate entry (`@notetaker/client-sdk/user`) keeps the playback entry small.
 */
import { captionCalls, type CaptionSource, type PutCaptionOptions } from './captions.js';
import { chapterCalls, type ChaptersSource } from './chapters.js';
import { createClock } from './clock.js';
import { createSend } from './http.js';
import { createStreamClient, type StreamClient, type StreamClientOptions } from './stream-client.js';
import type {
  Caption,
  Chapter,
  RequestOptions,
  UploadInstructions,
  UploadState,
  Video,
  VideoAnalytics,
  VideoPatch,
} from './types.js';
import {
  byteLength,
  uploadSource,
  type CompleteUploadInput,
  type PartUrl,
  type UploadOptions,
  type UploadSource,
  type UploadTarget,
} from './upload.js';

export { createStreamClient } from './stream-client.js';
export type {
  RetryOptions,
  StreamClient,
  StreamClientOptions,
  TokenProvider,
  WaitForStreamOptions,
} from './stream-client.js';
export { fetchPut, uploadSource, xhrPut } from './upload.js';
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
export type { ChaptersSource } from './chapters.js';
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
  StreamPlayable,
  StreamReady,
  StreamState,
  StreamStatus,
  UploadInstructions,
  UploadState,
  Video,
  VideoPatch,
} from './types.js';

/** Body of `POST /api/videos`: the size is required (the upload URL takes exactly that many bytes). */
export interface RegisterUploadInput {
  title?: string;
  content_type?: string;
  size_bytes: number;
  /** Your own id for the video, unique per owner (a taken one rejects with 409). */
  external_id?: string;
  /** A JSON object of your own, at most 4 KB. */
  metadata?: Record<string, unknown>;
}

/** What `POST /api/videos` answers: the pending video and where to send its source. */
export interface RegisteredUpload {
  video: Video;
  upload: UploadInstructions;
}

/** What `POST /api/dev/token` answers. */
export interface DevToken {
  token: string;
  user: string;
  expires_at: string;
}

export interface UserClient extends StreamClient {
  /** Registers an upload of the caller's own (`USER_UPLOADS`; 403 otherwise) and returns where to send it. */
  registerVideo(input: RegisterUploadInput, options?: RequestOptions): Promise<RegisteredUpload>;
  /** URLs for more parts of a multipart upload (at most 100 part numbers at a time). */
  requestPartUrls(id: string, partNumbers: number[], options?: RequestOptions): Promise<PartUrl[]>;
  /** `uploadSource` with this client's `fetch`, clock and part-URL requests. */
  uploadSource(
    upload: UploadTarget,
    source: UploadSource,
    options?: UploadOptions,
  ): Promise<CompleteUploadInput>;
  /** Marks the upload complete (multipart: assembles the parts). */
  completeUpload(id: string, input?: CompleteUploadInput, options?: RequestOptions): Promise<Video>;
  /** Where a pending upload stands: the parts storage holds and fresh URLs for the rest (`GET …/upload`). */
  uploadState(id: string, options?: RequestOptions): Promise<UploadState>;
  /** Aborts a pending upload: storage frees its parts and the video is removed (`DELETE …/upload`). */
  abortUpload(id: string, options?: RequestOptions): Promise<void>;
  /**
   * Register + upload + complete in one call; `size_bytes` and (for a Blob) `content_type` come from the source.
   * If the upload fails the video stays registered with `upload_status: "pending"`.
   * @example
   * const video = await user.uploadVideo({ title: file.name }, file, { put: xhrPut, onProgress });
   */
  uploadVideo(
    input: Omit<RegisterUploadInput, 'size_bytes'>,
    source: UploadSource,
    options?: UploadOptions,
  ): Promise<Video>;
  /** Deletes one of the caller's videos (`USER_UPLOADS`), its source and its HLS output. */
  deleteVideo(id: string, options?: RequestOptions): Promise<void>;
  /**
   * Changes the title, external id or metadata of the caller's video (`USER_UPLOADS`); fields not given stay.
   * @example
   * await user.updateVideo(video.id, { metadata: { meeting_id: 'm-42' } });
   */
  updateVideo(id: string, patch: VideoPatch, options?: RequestOptions): Promise<Video>;
  /** The caller's video with this external id, or `undefined` when they have none. */
  videoByExternalId(externalId: string, options?: RequestOptions): Promise<Video | undefined>;
  /** Adds or replaces a caption track of the caller's video (`USER_UPLOADS`); 400 names a malformed line. */
  putCaption(id: string, language: string, vtt: CaptionSource, options?: PutCaptionOptions): Promise<Caption>;
  /** The video's caption tracks. */
  listCaptions(id: string, options?: RequestOptions): Promise<Caption[]>;
  /** Deletes the caption track of `language` (`USER_UPLOADS`). */
  deleteCaption(id: string, language: string, options?: RequestOptions): Promise<void>;
  /** Sets (replaces) the chapters of the caller's video (`USER_UPLOADS`): a list or a WebVTT `kind=chapters` file. */
  putChapters(id: string, chapters: ChaptersSource, options?: RequestOptions): Promise<Chapter[]>;
  /** The video's chapters, sorted by start (empty when it has none). */
  getChapters(id: string, options?: RequestOptions): Promise<Chapter[]>;
  /** Deletes the video's chapters (`USER_UPLOADS`). */
  deleteChapters(id: string, options?: RequestOptions): Promise<void>;
  /** The watch analytics of the caller's video (its owner's only). */
  getAnalytics(id: string, options?: RequestOptions): Promise<VideoAnalytics>;
  /** Mints a user token from the server's local sign-in (`DEV_LOGIN`, answered to the server's own page only). */
  devToken(user: string, options?: RequestOptions): Promise<DevToken>;
}

/**
 * Creates a client for the user API.
 * @example
 * import { createUserClient, xhrPut } from '@notetaker/client-sdk/user';
 * const user = createUserClient({ baseUrl: location.origin, getToken: () => session.token });
 * const video = await user.uploadVideo({ title: file.name }, file, { put: xhrPut, onProgress: (p) => show(p) });
 */
export const createUserClient = (options: StreamClientOptions): UserClient => {
  const { getToken, token } = options;
  const clock = createClock(options.clock);
  const send = createSend(
    options.baseUrl,
    (refresh) => (getToken ? getToken({ refresh }) : token),
    !!getToken,
    options.fetch,
    clock.now,
  );
  const path = (id: string, rest = ''): string => `/api/videos/${encodeURIComponent(id)}${rest}`;
  const upload = (
    id: string | undefined,
    target: UploadTarget,
    source: UploadSource,
    o: UploadOptions = {},
  ) =>
    uploadSource(target, source, {
      fetch: options.fetch,
      clock: options.clock,
      ...(id === undefined
        ? {}
        : {
            requestParts: (numbers: number[], signal: AbortSignal) =>
              client.requestPartUrls(id, numbers, { signal }),
          }),
      ...o,
    });

  const client: UserClient = {
    ...createStreamClient(options),
    registerVideo: async (input, o = {}) => (await send('POST', '/api/videos', o.signal, input)).data,
    requestPartUrls: async (id, partNumbers, o = {}) =>
      (await send('POST', path(id, '/upload/parts'), o.signal, { part_numbers: partNumbers })).data.parts,
    uploadSource: (target, source, o) =>
      upload(target.method === 'multipart' ? target.video_id : undefined, target, source, o),
    completeUpload: async (id, input = {}, o = {}) =>
      (await send('POST', path(id, '/upload/complete'), o.signal, input)).data,
    uploadState: async (id, o = {}) => (await send('GET', path(id, '/upload'), o.signal)).data,
    abortUpload: async (id, o = {}) => {
      await send('DELETE', path(id, '/upload'), o.signal);
    },
    async uploadVideo(input, data, o = {}) {
      const source = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      const type = source instanceof Uint8Array ? undefined : source.type || undefined;
      const { video, upload: target } = await client.registerVideo(
        { content_type: type, ...input, size_bytes: byteLength(source) },
        o,
      );
      return client.completeUpload(video.id, await upload(video.id, target, source, o), o);
    },
    deleteVideo: async (id, o = {}) => {
      await send('DELETE', path(id), o.signal);
    },
    updateVideo: async (id, patch, o = {}) => (await send('PATCH', path(id), o.signal, patch)).data,
    videoByExternalId: async (externalId, o = {}) =>
      (await client.listVideosPage({ ...o, external_id: externalId, limit: 1 })).videos[0],
    ...captionCalls(send, path),
    ...chapterCalls(send, path),
    devToken: async (user, o = {}) => (await send('POST', '/api/dev/token', o.signal, { user })).data,
  };
  return client;
};
