import type { PlaybackTokens } from '../auth/playback-tokens.js';
import type { Db } from '../db/create-database.js';
import { HlsStatus, UploadStatus, type VideoRow } from '../db/schema.js';
import { ApiErrorCode, ConflictError, NotFoundError } from '../http/errors.js';
import { findOwnedVideo, startHlsGeneration } from './videos-repository.js';
import { isVideoId } from './video-json.js';

/** The `/stream` answer, as the contract gives it. */
export type StreamAnswer =
  | { status: 'generating'; retry_after: number; progress?: number }
  | { status: 'ready'; hls_url: string; expires_at: string }
  | { status: 'failed'; error_message: string };

export interface StreamServiceDeps {
  db: Db;
  playbackTokens: PlaybackTokens;
  /** The service's public base URL (no trailing slash). */
  publicUrl: () => string;
  playbackTtlSeconds: number;
  retryAfterSeconds: number;
  /** Wakes local workers so a new job starts without waiting for the next poll. */
  onGenerationQueued: () => void;
}

export interface StreamService {
  /** Answers `/stream` for `userId`, starting generation on the first view. */
  getStream(userId: string, videoId: string): Promise<StreamAnswer>;
  /** Restarts a failed (or never-started) generation; answers like `/stream`. */
  retry(userId: string, videoId: string): Promise<StreamAnswer>;
  /** Starts generation on behalf of the service (pre-generation); answers like `/stream`. */
  pregenerate(video: VideoRow): Promise<StreamAnswer>;
  answerFor(video: VideoRow): Promise<StreamAnswer>;
}

export function createStreamService(deps: StreamServiceDeps): StreamService {
  const owned = async (userId: string, videoId: string) => {
    if (!isVideoId(videoId)) throw new NotFoundError();
    const video = await findOwnedVideo(deps.db, videoId, userId);
    if (!video) throw new NotFoundError();
    if (video.upload_status !== UploadStatus.Complete) {
      throw new ConflictError(ApiErrorCode.UploadIncomplete, 'The video has been registered but its upload is not complete.');
    }
    return video;
  };

  const generating = (progress: number | null): StreamAnswer => ({
    status: 'generating',
    retry_after: deps.retryAfterSeconds,
    ...(progress !== null && progress > 0 ? { progress: Math.min(1, Math.max(0, progress)) } : {}),
  });

  const answerFor = async (video: VideoRow): Promise<StreamAnswer> => {
    switch (video.hls_status) {
      case HlsStatus.Ready: {
        const { token, expiresAt } = await deps.playbackTokens.mint(
          { userId: video.owner_id, videoId: video.id },
          deps.playbackTtlSeconds,
        );
        return {
          status: 'ready',
          hls_url: `${deps.publicUrl()}/api/videos/${video.id}/playlist.m3u8?token=${encodeURIComponent(token)}`,
          expires_at: expiresAt.toISOString(),
        };
      }
      case HlsStatus.Failed:
        return { status: 'failed', error_message: video.hls_error_message ?? 'Generation failed.' };
      case HlsStatus.Generating:
        return generating(video.hls_progress);
      default:
        return generating(null);
    }
  };

  const start = async (video: VideoRow, from: ReadonlyArray<'none' | 'failed'>): Promise<VideoRow> => {
    const started = await startHlsGeneration(deps.db, video.id, { from });
    if (started) {
      deps.onGenerationQueued();
      return started;
    }
    // Someone else made the transition first: answer from the row as it is now.
    return (await findOwnedVideo(deps.db, video.id, video.owner_id)) ?? video;
  };

  return {
    answerFor,
    async getStream(userId, videoId) {
      let video = await owned(userId, videoId);
      if (video.hls_status === null) video = await start(video, ['none']);
      return answerFor(video);
    },
    async retry(userId, videoId) {
      const video = await owned(userId, videoId);
      if (video.hls_status === HlsStatus.Ready || video.hls_status === HlsStatus.Generating) {
        throw new ConflictError(ApiErrorCode.NotFailed, `The video is ${video.hls_status}; only a failed video can be retried.`);
      }
      return answerFor(await start(video, ['none', 'failed']));
    },
    async pregenerate(video) {
      if (video.upload_status !== UploadStatus.Complete) {
        throw new ConflictError(ApiErrorCode.UploadIncomplete, 'The video has been registered but its upload is not complete.');
      }
      if (video.hls_status === null || video.hls_status === HlsStatus.Failed) {
        return answerFor(await start(video, ['none', 'failed']));
      }
      return answerFor(video);
    },
  };
}
