/** The parts of the stream-server API the page uses, with the signed-in user's token. */

import type { Caption, UploadInstructions, Video } from '@notetaker/client-sdk';

// The API's shapes as the SDK types them (checked against the server's OpenAPI schemas in tests/integration).
export type { Caption, UploadInstructions, Video };

export interface UploadedPart {
  part_number: number;
  etag: string;
}

/** An answer other than 2xx, with the API's error code and message. */
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

export interface PageApi {
  devToken(user: string): Promise<{ token: string; user: string; expires_at: string }>;
  listVideos(): Promise<Video[]>;
  register(file: { title: string; contentType: string; sizeBytes: number }): Promise<{
    video: Video;
    upload: UploadInstructions;
  }>;
  /** URLs for more parts of a multipart upload (at most 100 at a time). */
  requestParts(id: string, partNumbers: number[]): Promise<Array<{ part_number: number; url: string }>>;
  completeUpload(id: string, parts: UploadedPart[] | undefined): Promise<Video>;
  /** Asks for the stream once: starts generation when it has not started. */
  startStream(id: string): Promise<void>;
  retry(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  listCaptions(id: string): Promise<Caption[]>;
  /** Adds or replaces the track of `language`; the server checks the WebVTT and answers 400 naming the bad line. */
  putCaption(id: string, language: string, file: Blob, options: { isDefault: boolean }): Promise<Caption>;
  deleteCaption(id: string, language: string): Promise<void>;
}

/**
 * @example
 * const api = createPageApi({ base: location.origin, token: () => session.token });
 * const videos = await api.listVideos();
 */
export function createPageApi(options: { base: string; token: () => string | null }): PageApi {
  /** One API request; `body` goes as JSON, or as it is when it is a Blob (with the Blob's own type). */
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = {};
    const token = options.token();
    if (token) headers['authorization'] = `Bearer ${token}`;
    const raw = body instanceof Blob;
    if (body !== undefined) headers['content-type'] = raw ? body.type : 'application/json';
    let response: Response;
    try {
      response = await fetch(`${options.base}${path}`, {
        method,
        headers,
        body: raw ? body : body === undefined ? null : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiRequestError(0, 'network', 'The server cannot be reached. Is it running?');
    }
    if (response.status === 204) return undefined as T;
    const json = (await response.json().catch(() => null)) as
      (T & { error?: { code?: string; message?: string } }) | null;
    if (!response.ok) {
      const error = json?.error;
      throw new ApiRequestError(
        response.status,
        error?.code ?? 'http_error',
        error?.message ?? `The server answered HTTP ${response.status}.`,
      );
    }
    return json as T;
  };

  return {
    devToken: (user) => call('POST', '/api/dev/token', { user }),
    listVideos: async () => (await call<{ videos: Video[] }>('GET', '/api/videos')).videos,
    register: (file) =>
      call('POST', '/api/videos', {
        title: file.title,
        content_type: file.contentType,
        size_bytes: file.sizeBytes,
      }),
    requestParts: async (id, partNumbers) =>
      (
        await call<{ parts: Array<{ part_number: number; url: string }> }>(
          'POST',
          `/api/videos/${id}/upload/parts`,
          { part_numbers: partNumbers },
        )
      ).parts,
    completeUpload: (id, parts) => call('POST', `/api/videos/${id}/upload/complete`, parts ? { parts } : {}),
    startStream: async (id) => {
      await call('GET', `/api/videos/${id}/stream`);
    },
    retry: async (id) => {
      await call('POST', `/api/videos/${id}/stream/retry`);
    },
    remove: (id) => call('DELETE', `/api/videos/${id}`),
    listCaptions: async (id) =>
      (await call<{ captions: Caption[] }>('GET', `/api/videos/${id}/captions`)).captions,
    putCaption: (id, language, file, { isDefault }) =>
      call(
        'PUT',
        `/api/videos/${id}/captions/${encodeURIComponent(language)}?default=${isDefault}`,
        // The server takes text/vtt (or no type); a browser may type a .vtt file as anything, or as nothing.
        new Blob([file], { type: 'text/vtt' }),
      ),
    deleteCaption: (id, language) =>
      call('DELETE', `/api/videos/${id}/captions/${encodeURIComponent(language)}`),
  };
}
