import { randomUUID } from 'node:crypto';

import type { Db } from '../db/create-database.js';
import { UploadStatus, type VideoRow } from '../db/schema.js';
import { ApiErrorCode, BadRequestError, ConflictError, NotFoundError } from '../http/errors.js';
import type { Storage } from '../storage/storage.js';
import { isOwnerId, isVideoId, storageKeys } from './video-json.js';
import { deleteVideoRow, findVideo, insertVideo, markUploadComplete, resetHls } from './videos-repository.js';

export type UploadInstructions =
  | { method: 'PUT'; url: string; headers: Record<string, string>; expires_at: string }
  | {
      method: 'multipart';
      upload_id: string;
      part_size: number;
      parts: Array<{ part_number: number; url: string }>;
      expires_at: string;
    };

export interface VideoRegistryDeps {
  db: Db;
  storage: Storage;
  uploadUrlTtlSeconds: number;
  multipartThresholdBytes: number;
  multipartPartBytes: number;
  clock?: () => Date;
  /** Called when a video's source is in storage (upload completed, object imported): pre-generation hooks in here. */
  onSourceReady?: (video: VideoRow) => Promise<VideoRow>;
}

/** Registering, uploading, importing and deleting videos: what the management API (and the CLI) do. */
export interface VideoRegistry {
  register(input: {
    ownerId: string;
    title?: string | undefined;
    contentType?: string | undefined;
    sizeBytes?: number | undefined;
  }): Promise<{ video: VideoRow; upload: UploadInstructions }>;
  completeUpload(videoId: string, parts?: Array<{ partNumber: number; etag: string }>): Promise<VideoRow>;
  importExisting(input: { ownerId: string; sourceKey: string; title?: string | undefined }): Promise<VideoRow>;
  get(videoId: string): Promise<VideoRow>;
  remove(videoId: string): Promise<void>;
  removeHls(videoId: string): Promise<VideoRow>;
}

export function createVideoRegistry(deps: VideoRegistryDeps): VideoRegistry {
  const clock = deps.clock ?? (() => new Date());
  const get = async (videoId: string) => {
    if (!isVideoId(videoId)) throw new NotFoundError();
    const video = await findVideo(deps.db, videoId);
    if (!video) throw new NotFoundError();
    return video;
  };
  const checkOwner = (ownerId: string) => {
    if (!isOwnerId(ownerId)) {
      throw new BadRequestError('owner_id must be 1–128 characters of letters, digits and . _ @ | : -');
    }
  };

  return {
    get,
    async register(input) {
      checkOwner(input.ownerId);
      const id = randomUUID();
      const sourceKey = storageKeys.source(input.ownerId, id);
      const ttl = deps.uploadUrlTtlSeconds;
      const expiresAt = new Date(clock().getTime() + ttl * 1000).toISOString();
      const contentType = input.contentType ?? 'video/mp4';
      let upload: UploadInstructions;
      let uploadId: string | null = null;
      if (input.sizeBytes !== undefined && input.sizeBytes > deps.multipartThresholdBytes) {
        const partSize = deps.multipartPartBytes;
        const count = Math.ceil(input.sizeBytes / partSize);
        if (count > 10_000) throw new BadRequestError('The file is too large for a multipart upload (10,000 parts).');
        const created = await deps.storage.createMultipartUpload(sourceKey, { contentType });
        uploadId = created.uploadId;
        const parts = await Promise.all(
          Array.from({ length: count }, async (_, i) => ({
            part_number: i + 1,
            url: await deps.storage.presignUploadPart(sourceKey, created.uploadId, i + 1, { expiresInSeconds: ttl }),
          })),
        );
        upload = { method: 'multipart', upload_id: created.uploadId, part_size: partSize, parts, expires_at: expiresAt };
      } else {
        const url = await deps.storage.presignPut(sourceKey, { expiresInSeconds: ttl, contentType });
        upload = { method: 'PUT', url, headers: { 'content-type': contentType }, expires_at: expiresAt };
      }
      const video = await insertVideo(deps.db, {
        id,
        owner_id: input.ownerId,
        title: input.title ?? null,
        source_key: sourceKey,
        content_type: contentType,
        size_bytes: input.sizeBytes ?? null,
        upload_status: UploadStatus.Pending,
        upload_id: uploadId,
      });
      return { video, upload };
    },

    async completeUpload(videoId, parts) {
      const video = await get(videoId);
      if (video.upload_status === UploadStatus.Complete) return video;
      if (video.upload_id) {
        if (!parts || parts.length === 0) {
          throw new BadRequestError('This upload is multipart: send the parts with their ETags.');
        }
        await deps.storage.completeMultipartUpload(
          video.source_key,
          video.upload_id,
          [...parts].sort((a, b) => a.partNumber - b.partNumber),
        );
      }
      const head = await deps.storage.headObject(video.source_key);
      if (!head) {
        throw new ConflictError(ApiErrorCode.UploadIncomplete, 'Nothing has been uploaded to the upload URL yet.');
      }
      const updated = await markUploadComplete(deps.db, video.id, { sizeBytes: head.size });
      if (!updated) throw new NotFoundError();
      return deps.onSourceReady ? deps.onSourceReady(updated) : updated;
    },

    async importExisting(input) {
      checkOwner(input.ownerId);
      if (input.sourceKey.length === 0 || input.sourceKey.length > 1024 || input.sourceKey.startsWith('/')) {
        throw new BadRequestError('source_key must be a key of an object in the bucket.');
      }
      const head = await deps.storage.headObject(input.sourceKey);
      if (!head) throw new BadRequestError(`No object named ${JSON.stringify(input.sourceKey)} in the bucket.`);
      let video: VideoRow;
      try {
        video = await insertVideo(deps.db, {
          id: randomUUID(),
          owner_id: input.ownerId,
          title: input.title ?? null,
          source_key: input.sourceKey,
          content_type: head.contentType ?? null,
          size_bytes: head.size,
          upload_status: UploadStatus.Complete,
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505') {
          throw new ConflictError(ApiErrorCode.Conflict, 'That object is already registered as a video.');
        }
        throw error;
      }
      return deps.onSourceReady ? deps.onSourceReady(video) : video;
    },

    async remove(videoId) {
      const video = await get(videoId);
      // The row goes first: a worker still generating loses its lease and cleans up after itself.
      await deleteVideoRow(deps.db, video.id);
      if (video.upload_id) await deps.storage.abortMultipartUpload(video.source_key, video.upload_id).catch(() => {});
      await deps.storage.deleteObject(video.source_key);
      await deps.storage.deletePrefix(storageKeys.hlsPrefix(video.owner_id, video.id));
      // Caption rows go with the video row (foreign key cascade); their files are here.
      await deps.storage.deletePrefix(storageKeys.captionsPrefix(video.owner_id, video.id));
    },

    async removeHls(videoId) {
      const video = await get(videoId);
      // Reset first, so a worker still generating loses its lease, then remove what was stored.
      const reset = await resetHls(deps.db, video.id);
      await deps.storage.deletePrefix(storageKeys.hlsPrefix(video.owner_id, video.id));
      if (!reset) throw new NotFoundError();
      return reset;
    },
  };
}
