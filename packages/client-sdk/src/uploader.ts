/**
 * The resumable uploader (`@notetaker/client-sdk/uploader`): registers a file, sends it straight to storage in
 * parallel parts with retries, survives a lost network (it waits, asks the server which parts arrived and carries
 * on) and a page reload (the video id is kept in `localStorage`, or a store the caller passes), reports progress as
 * events, and can abort (freeing the parts on the server). The web page and the CLI upload with it. Its own entry,
 * so the playback entry stays within its size budget.
 */
import { createClock } from './clock.js';
import { isStreamError } from './errors.js';
import { backoffDelay, isRetryable } from './retry.js';
import type { RequestOptions, StreamClock, UploadState, Video } from './types.js';
import {
  uploadSource,
  xhrPut,
  type CompletedPart,
  type CompleteUploadInput,
  type PartUrl,
  type PutTransport,
  type UploadProgress,
  type UploadTarget,
} from './upload.js';

export { fetchPut, xhrPut } from './upload.js';
export type { PutTransport, UploadProgress, UploadTarget } from './upload.js';
export type { UploadState } from './types.js';

/**
 * The API calls the uploader makes. `createUserClient` (`/user`) and `createManagementClient` (`/server`) both
 * have them; the management client's `registerVideo` needs `owner_id`, passed through `UploadFileOptions.register`.
 */
export interface UploadApi {
  registerVideo(
    input: UploadRegistration,
    options?: RequestOptions,
  ): Promise<{ video: Video; upload: UploadTarget }>;
  uploadState(id: string, options?: RequestOptions): Promise<UploadState>;
  requestPartUrls(id: string, partNumbers: number[], options?: RequestOptions): Promise<PartUrl[]>;
  completeUpload(id: string, input?: CompleteUploadInput, options?: RequestOptions): Promise<Video>;
  abortUpload(id: string, options?: RequestOptions): Promise<void>;
}

/** The registration the uploader sends (`size_bytes` and, for a `File`, `content_type` come from the file). */
export interface UploadRegistration {
  size_bytes?: number;
  content_type?: string;
  title?: string;
  /** The owner, for the management client. */
  owner_id?: string;
}

/** Where the uploader remembers which video a file is being uploaded as (`localStorage` has this shape). */
export interface ResumeStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface UploadFileOptions {
  /** The user or management client (anything with the `UploadApi` calls). */
  api: UploadApi;
  /** The file (in Node, `fs.openAsBlob(path)` reads it as it sends, never whole into memory). */
  file: Blob;
  /** More registration fields: `title`, and `owner_id` for the management client. */
  register?: Omit<UploadRegistration, 'size_bytes'>;
  /**
   * Where to remember the upload so a reload resumes it: default `localStorage` where there is one; `false` for
   * nowhere (a resume then needs `videoId`).
   */
  store?: ResumeStore | false;
  /** The store's key for this file. Default: from the file's name, size and last modification. */
  resumeKey?: string;
  /** Resume the pending upload of this video (state kept by the caller) instead of looking in the store. */
  videoId?: string;
  /**
   * Parts sent at once. Default: adapted to the file (2 for small files, up to 6 for large ones), and at most
   * `BROWSER_CONCURRENCY` in browsers.
   */
  concurrency?: number;
  /** Retries of one part after a network error or 5xx (each with backoff). Default 3. */
  retries?: number;
  /** Resumes after the network stayed down through a part's retries, with backoff. Default 8. */
  resumes?: number;
  /** How each PUT is sent: default `xhrPut` where XMLHttpRequest exists (byte progress), else `fetchPut()`. */
  put?: PutTransport;
  /** Stops the upload; it stays resumable (use `abort()` of the handle to drop it on the server). */
  signal?: AbortSignal;
  clock?: Partial<StreamClock>;
  /** Also delivered as `progress` events of the handle. */
  onProgress?: (progress: UploadProgress) => void;
}

/** Detail of the handle's events. */
export interface UploadEvents {
  /** The video is registered (or found again when resuming); `resumed` says which. */
  registered: { video_id: string; resumed: boolean };
  progress: UploadProgress;
  /** The network failed through a part's retries: waiting `delay_ms`, then asking the server where it stands. */
  retrying: { attempt: number; delay_ms: number; error: unknown };
}

/** A running upload: an `EventTarget` of `CustomEvent`s named after `UploadEvents`. */
export interface UploadHandle extends EventTarget {
  /** The completed video. Rejects when the upload fails for good, is paused or aborted. */
  readonly done: Promise<Video>;
  /** The video's id once registered. */
  readonly videoId: string | undefined;
  /** Stops sending; the upload stays resumable (start it again with the same file, or `videoId`). */
  pause(): void;
  /** Stops sending and aborts on the server: the parts are freed, the video removed, the resume state forgotten. */
  abort(): Promise<void>;
}

const MB = 1_000_000;

/** Parts in flight for a file of `size` bytes: more for large files, where many parts keep a long link busy. */
export const concurrencyFor = (size: number): number => (size < 50 * MB ? 2 : size < 500 * MB ? 4 : 6);

/**
 * Parts in flight at most in a browser by default. Browsers open at most six HTTP/1.1 connections per host: when
 * storage shares the page's origin (the embedded server's local storage, without HTTP/2), six parts would take them
 * all, and the page's own requests, its player's, and even a reload would wait for a part to finish.
 */
export const BROWSER_CONCURRENCY = 4;

/** The default store key of a file: its name, size and last modification (the same file after a reload). */
const keyOf = (file: Blob): string => {
  const f = file as Partial<File>;
  return `notetaker-upload:${f.name ?? 'blob'}:${file.size}:${f.lastModified ?? 0}`;
};

const defaultStore = (): ResumeStore | undefined => {
  try {
    return (globalThis as { localStorage?: ResumeStore }).localStorage;
  } catch {
    return undefined; // Storage access refused (privacy settings, sandboxed frames).
  }
};

/**
 * Uploads a file and completes it, resumably. Returns a handle at once: listen for `progress`, await `done`.
 * @example
 * import { createUserClient } from '@notetaker/client-sdk/user';
 * import { uploadFile } from '@notetaker/client-sdk/uploader';
 * const upload = uploadFile({ api: createUserClient({ baseUrl, getToken }), file, register: { title: file.name } });
 * upload.addEventListener('progress', (e) => show(e.detail.loaded / e.detail.total));
 * const video = await upload.done;
 */
export const uploadFile = (options: UploadFileOptions): UploadHandle => {
  const { api, file } = options;
  const events = new EventTarget();
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer!.reason);
  outer?.addEventListener('abort', onOuterAbort);
  const signal = controller.signal;
  const clock = createClock(options.clock);
  const store = options.store === false ? undefined : (options.store ?? defaultStore());
  const key = options.resumeKey ?? keyOf(file);
  let videoId: string | undefined;
  const emit = <K extends keyof UploadEvents>(type: K, detail: UploadEvents[K]): void => {
    events.dispatchEvent(new CustomEvent(type, { detail }));
  };
  const remember = (id: string | undefined): void => {
    try {
      if (id) store?.setItem(key, id);
      else store?.removeItem(key);
    } catch {
      // A full or refused store: the upload goes on, only a reload cannot resume it.
    }
  };

  /**
   * The server's state of a pending upload; for one completed meanwhile (409) a PUT state without URL, which sends
   * nothing and goes straight to `completeUpload` (which answers the video).
   */
  const stateOf = async (id: string): Promise<UploadState> => {
    try {
      return await api.uploadState(id, { signal });
    } catch (error) {
      if (!isStreamError(error) || error.status != 409) throw error;
      return { video_id: id, status: 'pending', method: 'PUT', url: '', headers: {}, expires_at: '' };
    }
  };

  /** Where the upload stands: a resumed one from the server, a new one from its registration. */
  const start = async (): Promise<UploadState> => {
    const known = options.videoId ?? store?.getItem(key) ?? undefined;
    if (known) {
      try {
        const state = await stateOf(known);
        videoId = known;
        emit('registered', { video_id: known, resumed: true });
        return state;
      } catch (error) {
        // Gone meanwhile (aborted, deleted): start afresh.
        if (!isStreamError(error) || error.status != 404) throw error;
      }
    }
    const { video, upload } = await api.registerVideo(
      { content_type: file.type || undefined, ...options.register, size_bytes: file.size },
      { signal },
    );
    videoId = video.id;
    remember(video.id);
    emit('registered', { video_id: video.id, resumed: false });
    return upload.method == 'PUT'
      ? { video_id: video.id, status: 'pending', ...upload, headers: upload.headers ?? {} }
      : {
          video_id: video.id,
          status: 'pending',
          ...upload,
          part_count: upload.part_count ?? upload.parts.length,
          stored_parts: [],
        };
  };

  /** Sends what is missing; resolves with what `completeUpload` needs. */
  const send = async (
    state: UploadState,
    resumed: boolean,
    renewed = false,
  ): Promise<CompleteUploadInput> => {
    if (state.method == 'PUT' && !state.url) return {}; // Completed before: nothing to send.
    const put = options.put ?? (typeof XMLHttpRequest == 'function' ? xhrPut : undefined);
    const id = state.video_id;
    try {
      return await uploadSource(state.method == 'PUT' ? state : { ...state, video_id: id }, file, {
        signal,
        clock: options.clock,
        concurrency:
          options.concurrency ??
          Math.min(concurrencyFor(file.size), put == xhrPut ? BROWSER_CONCURRENCY : Infinity),
        retries: options.retries ?? 3,
        ...(put ? { put } : {}),
        requestParts: (numbers, s) => api.requestPartUrls(id, numbers, { signal: s }),
        storedParts:
          state.method == 'multipart'
            ? state.stored_parts.map(({ part_number, etag }): CompletedPart => ({ part_number, etag }))
            : [],
        onProgress: (progress) => {
          options.onProgress?.(progress);
          emit('progress', progress);
        },
      });
    } catch (error) {
      // A resumed single PUT whose object arrived before the reload: create-only storage answers 412.
      if (resumed && isStreamError(error) && error.status == 412) return {};
      // A single PUT's URL that expired (storage answers 403): a fresh one from `GET …/upload`, once. (Parts renew
      // their own URLs in `uploadSource`.)
      if (state.method == 'PUT' && !renewed && isStreamError(error) && error.status == 403) {
        // Storage's refusal stays the answer when there is nothing to renew (the video was deleted meanwhile).
        const fresh = await stateOf(id).catch(() => {
          throw error;
        });
        return send(fresh, resumed, true);
      }
      throw error;
    }
  };

  const run = async (): Promise<Video> => {
    let state = await start();
    let resumed = state.method == 'multipart' ? state.stored_parts.length > 0 : !!options.videoId;
    for (let attempt = 1; ; attempt++) {
      try {
        const input = await send(state, resumed);
        const video = await api.completeUpload(state.video_id, input, { signal });
        remember(undefined);
        return video;
      } catch (error) {
        signal.throwIfAborted();
        if (!isRetryable(error) || attempt > (options.resumes ?? 8)) throw error;
        const delay = backoffDelay(error, attempt, 1000, 30_000, clock.random);
        emit('retrying', { attempt, delay_ms: delay, error });
        await clock.sleep(delay, signal);
        // Ask the server what arrived; carry on from there with fresh URLs.
        state = await retryable(() => stateOf(state.video_id));
        resumed = true;
      }
    }
  };

  /** One API call retried while the network is down (it is what just failed). */
  const retryable = async <T>(call: () => Promise<T>): Promise<T> => {
    for (let failures = 1; ; failures++) {
      try {
        return await call();
      } catch (error) {
        signal.throwIfAborted();
        if (!isRetryable(error) || failures > (options.resumes ?? 8)) throw error;
        await clock.sleep(backoffDelay(error, failures, 1000, 30_000, clock.random), signal);
      }
    }
  };

  const done = run().finally(() => outer?.removeEventListener('abort', onOuterAbort));
  done.catch(() => {}); // The caller awaits `done`; an unobserved failure is not an unhandled rejection.

  // `videoId` is read live (Object.assign would copy a getter's value once).
  Object.defineProperty(events, 'videoId', { get: () => videoId, enumerable: true });
  return Object.assign(events, {
    done,
    pause: () => controller.abort(new DOMException('The upload was paused', 'AbortError')),
    abort: async () => {
      controller.abort(new DOMException('The upload was aborted', 'AbortError'));
      await done.catch(() => {});
      if (videoId) {
        await api.abortUpload(videoId).catch((e: unknown) => {
          if (!isStreamError(e) || e.status != 404) throw e;
        });
      }
      remember(undefined);
    },
  }) as unknown as UploadHandle;
};
