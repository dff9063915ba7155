/** The parts of the stream-server API the page uses: the SDK's user client with the signed-in user's token. */

import {
  createUserClient,
  isStreamError,
  type Caption,
  type CompletedPart,
  type PartUrl,
  type UploadInstructions,
  type UserClient,
  type Video,
  type VideoAnalytics,
} from '@notetaker/client-sdk/user';

// The API's shapes as the SDK types them (checked against the server's OpenAPI schemas in tests/integration).
export type { Caption, UploadInstructions, Video, VideoAnalytics };

export type UploadedPart = CompletedPart;

/** An answer other than 2xx, with the API's error code and message (status 0: the server cannot be reached). */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Videos the page shows at first, and adds with each "Load more". */
export const VIDEO_PAGE_SIZE = 50;

export interface PageApi {
  devToken(user: string): Promise<{ token: string; user: string; expires_at: string }>;
  listVideos(): Promise<Video[]>;
  /** One page of the user's videos, newest first; `next_cursor` asks for the next (`null` on the last page). */
  listVideoPage(cursor?: string): Promise<{ videos: Video[]; next_cursor: string | null }>;
  register(file: { title: string; contentType: string; sizeBytes: number }): Promise<{
    video: Video;
    upload: UploadInstructions;
  }>;
  /** URLs for more parts of a multipart upload (at most 100 at a time). */
  requestParts(id: string, partNumbers: number[], signal?: AbortSignal): Promise<PartUrl[]>;
  completeUpload(id: string, parts: UploadedPart[] | undefined): Promise<Video>;
  /** Asks for the stream once: starts generation when it has not started. */
  startStream(id: string): Promise<void>;
  retry(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  listCaptions(id: string): Promise<Caption[]>;
  /** Adds or replaces the track of `language`; the server checks the WebVTT and answers 400 naming the bad line. */
  putCaption(id: string, language: string, file: Blob, options: { isDefault: boolean }): Promise<Caption>;
  deleteCaption(id: string, language: string): Promise<void>;
  /** The owner's watch analytics of a video. */
  getAnalytics(id: string): Promise<VideoAnalytics>;
}

/** Runs one call of the SDK and words its failure for the page. */
const call = async <T>(request: () => Promise<T>): Promise<T> => {
  try {
    return await request();
  } catch (error) {
    if (!isStreamError(error)) throw error;
    if (error.name === 'StreamNetworkError') {
      throw new ApiRequestError(0, 'network', 'The server cannot be reached. Is it running?');
    }
    throw new ApiRequestError(error.status ?? 0, error.code, error.message);
  }
};

/**
 * @example
 * const api = createPageApi({ base: location.origin, token: () => session.token });
 * const videos = await api.listVideos();
 */
export function createPageApi(options: { base: string; token: () => string | null }): PageApi {
  const client: UserClient = createUserClient({
    baseUrl: options.base,
    getToken: () => options.token() ?? '',
    // The list and the captions change under the page: never answer them from the HTTP cache.
    fetch: (input, init) => fetch(input, { ...init, cache: 'no-store' }),
  });

  return {
    devToken: (user) => call(() => client.devToken(user)),
    listVideos: () => call(() => client.listVideos()),
    listVideoPage: (cursor) => call(() => client.listVideosPage({ limit: VIDEO_PAGE_SIZE, cursor })),
    register: (file) =>
      call(() =>
        client.registerVideo({
          title: file.title,
          content_type: file.contentType,
          size_bytes: file.sizeBytes,
        }),
      ),
    requestParts: (id, partNumbers, signal) =>
      call(() => client.requestPartUrls(id, partNumbers, { signal })),
    completeUpload: (id, parts) => call(() => client.completeUpload(id, parts ? { parts } : {})),
    startStream: async (id) => {
      await call(() => client.getStream(id));
    },
    retry: async (id) => {
      await call(() => client.retryStream(id));
    },
    remove: (id) => call(() => client.deleteVideo(id)),
    listCaptions: (id) => call(() => client.listCaptions(id)),
    putCaption: (id, language, file, { isDefault }) =>
      // The server takes text/vtt (or no type); a browser may type a .vtt file as anything, or as nothing.
      call(() =>
        client.putCaption(id, language, new Blob([file], { type: 'text/vtt' }), { default: isDefault }),
      ),
    deleteCaption: (id, language) => call(() => client.deleteCaption(id, language)),
    getAnalytics: (id) => call(() => client.getAnalytics(id)),
  };
}
