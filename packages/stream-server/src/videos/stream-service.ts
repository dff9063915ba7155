import { sql } from 'kysely';

import type { PlaybackTokens } from '../auth/playback-tokens.js';
import type { Db } from '../db/create-database.js';
import { HlsStatus, UploadStatus, type VideoRow } from '../db/schema.js';
import { sharedReads } from '../db/shared-reads.js';
import { ErrorCode, ConflictError, NotFoundError } from '../errors/domain-error.js';
import { playbackLinks, PlaylistType, videoPlaybackBase } from './playback-urls.js';
import {
  findOwnedVideo,
  findVideoForStream,
  hasChapters,
  hasMasterPlaylistEntries,
  startHlsGeneration,
  type StreamVideoRow,
} from './videos-repository.js';
import { isVideoId } from './video-json.js';
import { canWatch, ownerViewer, type Viewer } from './viewer.js';

/** The `/stream` answer, as the contract gives it. */
export type StreamAnswer =
  | {
      status: 'generating';
      retry_after: number;
      progress?: number;
      /** Present (with `playable` and `expires_at`) once the first segments are stored: an EVENT playlist. */
      hls_url?: string;
      playable?: true;
      expires_at?: string;
    }
  | {
      status: 'ready';
      hls_url: string;
      expires_at: string;
      /** A JPEG (a frame at 10 % of the video), behind the same playback token as `hls_url`; absent when none. */
      poster_url?: string;
      /** A WebVTT of thumbnails (`<sprite URL>#xywh=x,y,w,h` cues) for seek previews; absent when none. */
      storyboard_url?: string;
      /** A WebVTT `kind=chapters` track, behind the same playback token; present when the video has chapters. */
      chapters_url?: string;
    }
  | { status: 'failed'; error_message: string };

/** Default longest hold of a `/stream` answer that is not yet playable (see docs/decisions/0006-play-while-generating.md). */
export const DEFAULT_STREAM_HOLD_MS = 4000;
/** Default interval at which held answers look at the database again. */
export const DEFAULT_STREAM_HOLD_POLL_MS = 100;

export interface StreamServiceDeps {
  db: Db;
  playbackTokens: PlaybackTokens;
  /** The service's public base URL (no trailing slash). */
  publicUrl: () => string;
  playbackTtlSeconds: number;
  retryAfterSeconds: number;
  /** Wakes local workers so a new job starts without waiting for the next poll. */
  onGenerationQueued: () => void;
  /**
   * The embedded database's count of statements that may have changed data (`Database.writeCount`): while it
   * stands still, the row a `/stream` answer was made from is still current and is read from memory. Absent on
   * PostgreSQL, where every answer reads the row.
   */
  dataVersion?: (() => number) | undefined;
  /**
   * Longest time a user's `/stream` (or retry) answer is held while the video is generating but not yet playable,
   * so the first segments can land and the answer can carry `hls_url` instead of a `retry_after` wait.
   * Default {@link DEFAULT_STREAM_HOLD_MS}; 0 answers at once.
   */
  holdMs?: number;
  /** Default {@link DEFAULT_STREAM_HOLD_POLL_MS}. */
  holdPollMs?: number;
  /**
   * The `retry_after` of a generating answer that is not playable yet, when no worker has started the video
   * (the workers are at their bound): see `generation-backlog.ts`. Default: `retryAfterSeconds` always.
   */
  queuedRetryAfter?: ((video: VideoRow) => Promise<number>) | undefined;
}

export interface StreamService {
  /**
   * Answers `/stream` for `viewer` (the owner, or a user whose `watch` claim names the video), starting generation
   * on the first view. The playback token records the viewer. A plain user id is a viewer without grants.
   */
  getStream(viewer: Viewer | string, videoId: string): Promise<StreamAnswer>;
  /** Restarts a failed (or never-started) generation; answers like `/stream`. */
  retry(viewer: Viewer | string, videoId: string): Promise<StreamAnswer>;
  /** Starts generation on behalf of the service (pre-generation); answers like `/stream`. Never held. */
  pregenerate(video: VideoRow): Promise<StreamAnswer>;
  /** The answer for `video` as it is, for `viewer` (default: its owner). */
  answerFor(video: VideoRow, viewer?: Viewer): Promise<StreamAnswer>;
  /**
   * Tells held answers for this video to look at the database now rather than at their next poll: a worker in
   * the same process calls it when it publishes a playlist or finishes. Answers held elsewhere still poll.
   */
  videoChanged(videoId: string): void;
}

/**
 * The `/stream` contract: starts generation on the first view, answers `generating` (202) — with a playable
 * EVENT `hls_url` once the first segments are stored —, `ready` or `failed`.
 *
 * An answer that would be "generating, not playable yet" is held for up to `holdMs` while the database is looked
 * at every `holdPollMs`, so a first view usually comes back already playable rather than after a `retry_after`
 * wait. The call that starts a generation always answers 202, as the contract says for a first view.
 *
 * @example
 * const streams = createStreamService({ db, playbackTokens, publicUrl: () => url, playbackTtlSeconds: 21600,
 *   retryAfterSeconds: 2, onGenerationQueued: () => worker.notify() });
 * await streams.getStream('alice', videoId); // { status: 'generating', retry_after: 2, playable: true, hls_url, … }
 */
export function createStreamService(deps: StreamServiceDeps): StreamService {
  const holdMs = Math.max(0, deps.holdMs ?? DEFAULT_STREAM_HOLD_MS);
  const watcher = createGenerationWatcher(
    deps.db,
    Math.max(10, deps.holdPollMs ?? DEFAULT_STREAM_HOLD_POLL_MS),
  );

  // One query: the row, and what a ready answer needs besides it (master entries, chapters); requests for the same
  // video that arrive together share it (never one that started before they arrived).
  const sharedRead = sharedReads((videoId: string) => findVideoForStream(deps.db, videoId));
  const readForStream = deps.dataVersion ? unchangedRows(sharedRead, deps.dataVersion) : sharedRead;

  const watchable = async (viewer: Viewer, videoId: string) => {
    if (!isVideoId(videoId)) throw new NotFoundError();
    const video = await readForStream(videoId);
    if (!video || !canWatch(viewer, video)) throw new NotFoundError();
    if (video.upload_status !== UploadStatus.Complete) {
      throw new ConflictError(
        ErrorCode.UploadIncomplete,
        'The video has been registered but its upload is not complete.',
      );
    }
    return video;
  };

  /** The video's playback links (absolute) with a fresh playback token for `viewer`, and when they expire. */
  const playback = async (video: VideoRow, viewer: Viewer) => {
    const shared = viewer.userId !== video.owner_id;
    const { token, expiresAt } = await deps.playbackTokens.mint(
      { userId: viewer.userId, videoId: video.id, ...(shared ? { shared } : {}) },
      deps.playbackTtlSeconds,
    );
    return {
      links: playbackLinks(token, videoPlaybackBase(deps.publicUrl(), video.id)),
      expires_at: expiresAt.toISOString(),
    };
  };

  const generating = async (video: VideoRow, playable: boolean, viewer: Viewer): Promise<StreamAnswer> => {
    const progress = video.hls_progress;
    const answer: StreamAnswer = {
      status: 'generating',
      retry_after: deps.retryAfterSeconds,
      ...(progress !== null && progress > 0 ? { progress: Math.min(1, Math.max(0, progress)) } : {}),
    };
    if (!playable) {
      return deps.queuedRetryAfter ? { ...answer, retry_after: await deps.queuedRetryAfter(video) } : answer;
    }
    const { links, expires_at } = await playback(video, viewer);
    return { ...answer, hls_url: links.playlist(PlaylistType.Event), playable: true, expires_at };
  };

  const ready = async (video: VideoRow | StreamVideoRow, viewer: Viewer): Promise<StreamAnswer> => {
    const { links, expires_at } = await playback(video, viewer);
    // The master once it has something to choose from (a lower rendition, a caption track). A row read for
    // `/stream` knows both already; any other (after a hold, pre-generation) asks.
    const known = 'has_chapters' in video ? video : undefined;
    const [entries, chapters] = known
      ? [known.has_master_entries, known.has_chapters]
      : await Promise.all([hasMasterPlaylistEntries(deps.db, video), hasChapters(deps.db, video.id)]);
    const master = video.hls_variant !== null && entries;
    return {
      status: 'ready',
      hls_url: master ? links.master() : links.playlist(),
      expires_at,
      // Poster and storyboard share the playlist's token (so its lifetime and its checks).
      ...(video.poster_key ? { poster_url: links.poster() } : {}),
      ...(video.storyboard_key ? { storyboard_url: links.storyboard() } : {}),
      ...(chapters ? { chapters_url: links.chapters() } : {}),
    };
  };

  const answerFor = async (video: VideoRow, viewer: Viewer = ownerViewer(video)): Promise<StreamAnswer> => {
    switch (video.hls_status) {
      case HlsStatus.Ready:
        return ready(video, viewer);
      case HlsStatus.Failed:
        return { status: 'failed', error_message: video.hls_error_message ?? 'Generation failed.' };
      case HlsStatus.Generating:
        return generating(video, isPlayable(video), viewer);
      default:
        return generating(video, false, viewer);
    }
  };

  /**
   * The answer to the call that started (or restarted) a generation: always 202, as the contract gives a first
   * view. When the held wait saw the video finish already, its `hls_url` is an EVENT URL (answered as a complete
   * EVENT playlist); when it saw a failure, the next poll reports it.
   */
  const firstAnswer = async (video: VideoRow, viewer: Viewer): Promise<StreamAnswer> => {
    if (video.hls_status === HlsStatus.Ready) return generating(video, true, viewer);
    if (video.hls_status === HlsStatus.Generating) return generating(video, isPlayable(video), viewer);
    return generating({ ...video, hls_progress: null }, false, viewer);
  };

  /** Holds a not-yet-playable generating video for up to `holdMs`, then reads it again (ownership included). */
  const held = async (video: VideoRow): Promise<VideoRow> => {
    if (holdMs === 0 || video.hls_status !== HlsStatus.Generating || isPlayable(video)) return video;
    const changed = await watcher.waitForChange(video.id, holdMs);
    if (!changed) return video;
    const current = await findOwnedVideo(deps.db, video.id, video.owner_id);
    if (!current) throw new NotFoundError();
    return current;
  };

  const start = async (
    video: VideoRow,
    from: ReadonlyArray<'none' | 'failed'>,
  ): Promise<{ video: VideoRow; started: boolean }> => {
    const started = await startHlsGeneration(deps.db, video.id, { from });
    if (started) {
      deps.onGenerationQueued();
      return { video: started, started: true };
    }
    // Someone else made the transition first: answer from the row as it is now.
    return { video: (await findOwnedVideo(deps.db, video.id, video.owner_id)) ?? video, started: false };
  };

  return {
    answerFor,
    videoChanged: (videoId) => watcher.wake(videoId),
    async getStream(caller, videoId) {
      const viewer = asViewer(caller);
      const video = await watchable(viewer, videoId);
      if (video.hls_status !== null) return answerFor(await held(video), viewer);
      const result = await start(video, ['none']);
      const current = await held(result.video);
      return result.started ? firstAnswer(current, viewer) : answerFor(current, viewer);
    },
    async retry(caller, videoId) {
      const viewer = asViewer(caller);
      const video = await watchable(viewer, videoId);
      if (video.hls_status === HlsStatus.Ready || video.hls_status === HlsStatus.Generating) {
        throw new ConflictError(
          ErrorCode.NotFailed,
          `The video is ${video.hls_status}; only a failed video can be retried.`,
        );
      }
      const result = await start(video, ['none', 'failed']);
      const current = await held(result.video);
      return result.started ? firstAnswer(current, viewer) : answerFor(current, viewer);
    },
    async pregenerate(video) {
      if (video.upload_status !== UploadStatus.Complete) {
        throw new ConflictError(
          ErrorCode.UploadIncomplete,
          'The video has been registered but its upload is not complete.',
        );
      }
      if (video.hls_status === null || video.hls_status === HlsStatus.Failed) {
        return answerFor((await start(video, ['none', 'failed'])).video);
      }
      return answerFor(video);
    },
  };
}

/** At most this many rows are kept by {@link unchangedRows}; past it they are all dropped. */
const UNCHANGED_ROWS_MAX = 1000;

/**
 * Keeps the rows `read` returned for as long as `version` stands still (the embedded database's write count): a
 * kept row is exactly what a new read would return, so nothing is ever served stale. Every write in the process
 * drops them all; a row is kept under the version read before its query, so a write during the query drops it too.
 */
function unchangedRows<R>(
  read: (videoId: string) => Promise<R>,
  version: () => number,
): (videoId: string) => Promise<R> {
  const rows = new Map<string, R>();
  let keptAt = version();
  return async (videoId) => {
    const before = version();
    if (before !== keptAt) {
      rows.clear();
      keptAt = before;
    } else if (rows.has(videoId)) {
      return rows.get(videoId)!;
    }
    const row = await read(videoId);
    if (version() === before) {
      if (rows.size >= UNCHANGED_ROWS_MAX) rows.clear();
      rows.set(videoId, row);
    }
    return row;
  };
}

/** A user id alone is a viewer with no grants. */
function asViewer(caller: Viewer | string): Viewer {
  return typeof caller === 'string' ? { userId: caller, watch: [] } : caller;
}

/** A generating video is playable once the worker has published the playlist of its first stored segments. */
function isPlayable(video: Pick<VideoRow, 'hls_status' | 'hls_live_playlist'>): boolean {
  return video.hls_status === HlsStatus.Generating && video.hls_live_playlist !== null;
}

/**
 * Waits for generating videos to become playable (or ready, failed, deleted). Every held request in the process
 * shares one loop that reads the state of all watched videos in one small query per `pollMs` (the playlist text
 * itself is not read), so a hundred held requests cost what one does.
 */
function createGenerationWatcher(db: Db, pollMs: number) {
  const waiters = new Map<string, Set<() => void>>();
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;

  const release = (id: string) => {
    const set = waiters.get(id);
    if (!set) return;
    waiters.delete(id);
    for (const resolve of set) resolve();
  };

  /** Set when a wake arrives during a tick: the next tick then runs at once. */
  let woken = false;

  const schedule = () => {
    if (timer || ticking || waiters.size === 0) return;
    timer = setTimeout(() => void tick(), woken ? 0 : pollMs);
  };

  const tick = async () => {
    timer = undefined;
    ticking = true;
    woken = false;
    const ids = [...waiters.keys()];
    try {
      if (ids.length > 0) {
        const rows = await db
          .selectFrom('videos')
          .select(['id', 'hls_status'])
          .select(sql<boolean>`hls_live_playlist is not null`.as('playable'))
          .where('id', 'in', ids)
          .execute();
        const byId = new Map(rows.map((row) => [row.id, row]));
        for (const id of ids) {
          const row = byId.get(id);
          if (!row || row.hls_status !== HlsStatus.Generating || row.playable) release(id);
        }
      }
    } catch {
      // The database is unavailable: answer now from what the callers already have.
      for (const id of ids) release(id);
    } finally {
      ticking = false;
      schedule();
    }
  };

  return {
    /** Looks at the database at once when someone waits for this video (never more than one query at a time). */
    wake(id: string): void {
      if (!waiters.has(id)) return;
      woken = true;
      if (ticking) return;
      clearTimeout(timer);
      timer = undefined;
      schedule();
    },
    /** Resolves `true` when the video's state changed within `timeoutMs`, `false` when the wait ran out. */
    waitForChange(id: string, timeoutMs: number): Promise<boolean> {
      return new Promise<boolean>((resolve) => {
        let set = waiters.get(id);
        if (!set) waiters.set(id, (set = new Set()));
        const onChange = () => {
          clearTimeout(deadline);
          resolve(true);
        };
        const deadline = setTimeout(() => {
          const current = waiters.get(id);
          current?.delete(onChange);
          if (current?.size === 0) waiters.delete(id);
          resolve(false);
        }, timeoutMs);
        set.add(onChange);
        schedule();
      });
    },
  };
}
