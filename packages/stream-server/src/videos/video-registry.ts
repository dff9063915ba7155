import { randomUUID } from 'node:crypto';

import type { Db } from '../db/create-database.js';
import { UploadStatus, type VideoRow } from '../db/schema.js';
import { ErrorCode, InvalidInputError, ConflictError, NotFoundError } from '../errors/domain-error.js';
import { sql } from 'kysely';

import { DomainError } from '../errors/domain-error.js';
import { assertValidKey } from '../storage/object-key.js';
import { StorageError, StorageErrorCode, type Storage } from '../storage/storage.js';
import { isGeneratedKey, storageKeys } from '../media/hls-layout.js';
import { isOwnerId, isVideoId } from './video-json.js';
import { describeUnrecognised, detectContainer, SIGNATURE_BYTES } from '../media/container-signature.js';
import { WebhookEventType } from '../webhooks/events/event-types.js';
import { createWebhookEvents, type WebhookEvents } from '../webhooks/events/publish-event.js';
import { toVideoJson } from './video-json.js';
import {
  deleteVideoRow,
  findVideo,
  findVideoByExternalId,
  insertVideo,
  isExternalIdTaken,
  markUploadComplete,
  replaceUploadId,
  resetHls,
  updateVideoDetails,
} from './videos-repository.js';
import { metadataJson, type VideoMetadata } from './video-details.js';

export type UploadInstructions =
  | { method: 'PUT'; url: string; headers: Record<string, string>; expires_at: string }
  | {
      method: 'multipart';
      /** The video this upload is for: more part URLs come from `POST …/videos/{video_id}/upload/parts`. */
      video_id: string;
      upload_id: string;
      part_size: number;
      /** How many parts the file has; `parts` holds the URLs of the first ones (at most `PART_URL_BATCH`). */
      part_count: number;
      parts: Array<{ part_number: number; url: string }>;
      expires_at: string;
    };

export interface PartUrls {
  parts: Array<{ part_number: number; url: string }>;
  expires_at: string;
}

/**
 * Where a pending upload stands, for resuming it: a single PUT gets a fresh URL; a multipart upload lists the parts
 * storage holds (with the ETags completion needs) and fresh URLs for the first missing ones.
 */
export type UploadState =
  | ({ video_id: string; status: 'pending' } & Extract<UploadInstructions, { method: 'PUT' }>)
  | {
      video_id: string;
      status: 'pending';
      method: 'multipart';
      upload_id: string;
      part_size: number;
      part_count: number;
      /** Parts storage holds, by part number, with the ETag each PUT answered and its size. */
      stored_parts: Array<{ part_number: number; etag: string; size: number }>;
      /** Fresh URLs for the missing parts (the first `PART_URL_BATCH` of them); more from `upload/parts`. */
      parts: Array<{ part_number: number; url: string }>;
      expires_at: string;
    };

/** Options of `completeUpload`. */
export interface CompleteUploadOptions {
  /**
   * Read the first bytes of the stored object and refuse (422 `not_a_video`) what is no media container. Default
   * true; an operator's own import (`importVideo`) skips it and leaves the verdict to generation's full probe.
   */
  checkContainer?: boolean;
}

/** Part URLs answered at once, by the registration and by each request for more. */
export const PART_URL_BATCH = 100;

/**
 * How long after its upload URL expires a deleted video's source key is still watched by cleanup: a PUT that
 * started just before the expiry may still be sending.
 */
const ORPHAN_GRACE_MS = 24 * 60 * 60 * 1000;

export interface VideoRegistryDeps {
  db: Db;
  storage: Storage;
  uploadUrlTtlSeconds: number;
  multipartThresholdBytes: number;
  multipartPartBytes: number;
  /** Largest source a registration, upload or import may have (`MAX_UPLOAD_BYTES`). */
  maxUploadBytes?: number;
  clock?: () => Date;
  /**
   * Announces registrations, completed uploads and deletions (`video.created`, `video.upload.completed`,
   * `video.deleted`), each in the transaction of its change; default: registered endpoints only.
   */
  events?: WebhookEvents;
  /** Called when a video's source is in storage (upload completed, object imported): pre-generation hooks in here. */
  onSourceReady?: (video: VideoRow) => Promise<VideoRow>;
}

/** What a host app says about a video: set at registration or import, changed with {@link VideoRegistry.update}. */
export interface VideoDetails {
  title?: string | null | undefined;
  /** A JSON object of the host's own (at most 4 KB); replaces the old one whole. `null` empties it. */
  metadata?: VideoMetadata | null | undefined;
  /** The host's own id for the video, unique per owner (409 when another of the owner's videos has it). */
  externalId?: string | null | undefined;
}

/** Registering, uploading, importing and deleting videos: what the management API (and the CLI) do. */
export interface VideoRegistry {
  register(
    input: {
      ownerId: string;
      contentType?: string | undefined;
      sizeBytes?: number | undefined;
    } & VideoDetails,
  ): Promise<{ video: VideoRow; upload: UploadInstructions }>;
  completeUpload(
    videoId: string,
    parts?: Array<{ partNumber: number; etag: string }>,
    options?: CompleteUploadOptions,
  ): Promise<VideoRow>;
  /** Where a pending upload stands, with fresh URLs for what is still to send (resuming an upload). */
  uploadState(videoId: string): Promise<UploadState>;
  /** Aborts a pending upload: storage frees the parts sent so far and the registration is removed. */
  abortUpload(videoId: string): Promise<void>;
  /** Fresh URLs for parts of a pending multipart upload, at most `PART_URL_BATCH` at a time. */
  presignParts(videoId: string, partNumbers: number[]): Promise<PartUrls>;
  /** Whether `key` is the source of a video whose upload is still pending (local storage asks before a PUT). */
  acceptsUpload(key: string): Promise<boolean>;
  importExisting(input: { ownerId: string; sourceKey: string } & VideoDetails): Promise<VideoRow>;
  get(videoId: string): Promise<VideoRow>;
  /** Sets what `details` names (title, metadata, external id) and leaves the rest; 404 when there is no such video. */
  update(videoId: string, details: VideoDetails): Promise<VideoRow>;
  remove(videoId: string): Promise<void>;
  removeHls(videoId: string): Promise<VideoRow>;
}

/**
 * Turns a storage failure met while serving a request into the API's answer: a request the storage refuses (a
 * part never uploaded, a wrong ETag, a bad key) is the client's (400), a missing upload a conflict (409), a full
 * disk 507, an unreachable storage 503. Anything else stays an internal error.
 */
function toApiError(error: unknown): unknown {
  if (!(error instanceof StorageError)) return error;
  switch (error.code) {
    case StorageErrorCode.InvalidRequest:
    case StorageErrorCode.InvalidKey:
      return new DomainError(ErrorCode.BadRequest, `Storage refused the request: ${error.message}`, {
        cause: error,
      });
    case StorageErrorCode.NotFound:
      return new DomainError(
        ErrorCode.UploadIncomplete,
        `Storage does not know this upload or one of its parts: ${error.message}`,
        { cause: error },
      );
    case StorageErrorCode.PreconditionFailed:
      return new DomainError(ErrorCode.Conflict, error.message, { cause: error });
    case StorageErrorCode.InsufficientStorage:
      return new DomainError(
        ErrorCode.InsufficientStorage,
        'The server has no space left to store this upload; try again later.',
        { cause: error },
      );
    case StorageErrorCode.Unavailable:
      return new DomainError(ErrorCode.Unavailable, 'Storage is not answering; try again shortly.', {
        cause: error,
      });
    default:
      return error;
  }
}

async function storageCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toApiError(error);
  }
}

const alreadyComplete = 'This upload is already complete.';

const MiB = 1024 * 1024;

/**
 * The part size of a multipart upload of `sizeBytes`: the configured size (`MULTIPART_PART_BYTES`) for most files,
 * larger for a big one so it has at most about 1,000 parts (whole MiB), far below S3's 10,000.
 */
export function partSizeFor(sizeBytes: number, configuredBytes: number): number {
  return Math.max(configuredBytes, Math.ceil(sizeBytes / 1000 / MiB) * MiB);
}

const formatBytes = (bytes: number) =>
  bytes >= 1000 ** 3 ? `${(bytes / 1000 ** 3).toFixed(1)} GB` : `${(bytes / 1000 ** 2).toFixed(1)} MB`;

export function createVideoRegistry(deps: VideoRegistryDeps): VideoRegistry {
  const clock = deps.clock ?? (() => new Date());
  const events = deps.events ?? createWebhookEvents();
  const maxUploadBytes = deps.maxUploadBytes ?? Number.MAX_SAFE_INTEGER;
  const get = async (videoId: string) => {
    if (!isVideoId(videoId)) throw new NotFoundError();
    const video = await findVideo(deps.db, videoId);
    if (!video) throw new NotFoundError();
    return video;
  };
  const checkOwner = (ownerId: string) => {
    if (!isOwnerId(ownerId)) {
      throw new InvalidInputError('owner_id must be 1–128 characters of letters, digits and . _ @ | : -');
    }
  };
  const tooLarge = (size: number) =>
    new DomainError(
      ErrorCode.PayloadTooLarge,
      `The file is ${formatBytes(size)} (${size} bytes); this server takes sources up to ` +
        `${formatBytes(maxUploadBytes)} (${maxUploadBytes} bytes, MAX_UPLOAD_BYTES).`,
    );
  const expiresAt = () => new Date(clock().getTime() + deps.uploadUrlTtlSeconds * 1000).toISOString();
  const partBytes = (sizeBytes: number) => partSizeFor(sizeBytes, deps.multipartPartBytes);
  const partCount = (sizeBytes: number) => Math.ceil(sizeBytes / partBytes(sizeBytes));
  const partLength = (sizeBytes: number, partNumber: number) =>
    Math.min(partBytes(sizeBytes), sizeBytes - (partNumber - 1) * partBytes(sizeBytes));
  const presignPart = (key: string, uploadId: string, sizeBytes: number, partNumber: number) =>
    deps.storage.presignUploadPart(key, uploadId, partNumber, {
      expiresInSeconds: deps.uploadUrlTtlSeconds,
      contentLength: partLength(sizeBytes, partNumber),
    });

  /** A fresh create-only PUT URL for a pending single-PUT upload (the same binding as at registration). */
  const putInstructions = async (video: VideoRow) => {
    const contentType = video.content_type ?? 'video/mp4';
    const url = await storageCall(() =>
      deps.storage.presignPut(video.source_key, {
        expiresInSeconds: deps.uploadUrlTtlSeconds,
        contentType,
        createOnly: true,
        ...(video.size_bytes === null
          ? { maxLength: maxUploadBytes }
          : { contentLength: Number(video.size_bytes) }),
      }),
    );
    return {
      method: 'PUT' as const,
      url,
      headers: { 'content-type': contentType, 'if-none-match': '*' },
      expires_at: expiresAt(),
    };
  };

  /**
   * The fail-fast check of a completed upload: one ranged read of the object's first bytes. What is no media
   * container is removed, and the registration is made ready for another attempt (a multipart upload gets a new
   * storage upload, whose URLs `uploadState` hands out), then refused with `not_a_video`.
   */
  const refuseUnreadable = async (video: VideoRow, storedBytes: number) => {
    const head =
      storedBytes === 0
        ? new Uint8Array()
        : await storageCall(() => deps.storage.readHead(video.source_key, SIGNATURE_BYTES));
    if (detectContainer(head)) return;
    await storageCall(() => deps.storage.deleteObject(video.source_key));
    if (video.upload_id) {
      const fresh = await storageCall(() =>
        deps.storage.createMultipartUpload(video.source_key, {
          contentType: video.content_type ?? 'video/mp4',
        }),
      );
      await replaceUploadId(deps.db, video.id, fresh.uploadId);
    }
    throw new DomainError(
      ErrorCode.NotAVideo,
      `The uploaded file is not a video: ${describeUnrecognised(head)}. It was not kept; the video stays ` +
        'registered, so upload a video file (GET …/upload gives fresh URLs) and complete again.',
    );
  };

  const pendingVideo = async (videoId: string) => {
    const video = await get(videoId);
    if (video.upload_status === UploadStatus.Complete) {
      throw new ConflictError(ErrorCode.Conflict, alreadyComplete);
    }
    return video;
  };

  const externalIdTaken = (externalId: string | null | undefined) =>
    new ConflictError(
      ErrorCode.Conflict,
      `Another video of this owner already has external_id ${JSON.stringify(externalId)}; ` +
        'find it with GET …/videos?external_id=, or choose another id.',
    );
  /** A taken external id (the unique index refused it) as the API's 409; any other error as it is. */
  const externalIdConflict = (error: unknown, externalId: string | null | undefined) =>
    isExternalIdTaken(error) ? externalIdTaken(externalId) : error;
  /** 409 before anything is stored when the owner already has a video with this external id. */
  const checkExternalIdFree = async (ownerId: string, externalId: string | null | undefined) => {
    if (externalId && (await findVideoByExternalId(deps.db, ownerId, externalId))) {
      throw externalIdTaken(externalId);
    }
  };

  const registry: VideoRegistry = {
    get,

    async update(videoId, details) {
      const video = await get(videoId);
      try {
        const updated = await updateVideoDetails(deps.db, video.id, {
          ...(details.title !== undefined ? { title: details.title } : {}),
          ...(details.metadata !== undefined ? { metadataJson: metadataJson(details.metadata) } : {}),
          ...(details.externalId !== undefined ? { externalId: details.externalId } : {}),
        });
        if (!updated) throw new NotFoundError();
        return updated;
      } catch (error) {
        throw externalIdConflict(error, details.externalId);
      }
    },

    async uploadState(videoId) {
      const video = await pendingVideo(videoId);
      if (!video.upload_id || video.size_bytes === null) {
        return { video_id: video.id, status: 'pending', ...(await putInstructions(video)) };
      }
      const size = Number(video.size_bytes);
      const uploadId = video.upload_id;
      const count = partCount(size);
      const stored = await storageCall(() => deps.storage.listParts(video.source_key, uploadId));
      // Only parts of the expected length count as stored (a part cut short by a lost connection never is).
      const complete = stored.filter(
        (p) => p.partNumber >= 1 && p.partNumber <= count && p.size === partLength(size, p.partNumber),
      );
      const have = new Set(complete.map((p) => p.partNumber));
      const missing = Array.from({ length: count }, (_, i) => i + 1)
        .filter((n) => !have.has(n))
        .slice(0, PART_URL_BATCH);
      const parts = await storageCall(() =>
        Promise.all(
          missing.map(async (n) => ({
            part_number: n,
            url: await presignPart(video.source_key, uploadId, size, n),
          })),
        ),
      );
      return {
        video_id: video.id,
        status: 'pending',
        method: 'multipart',
        upload_id: uploadId,
        part_size: partBytes(size),
        part_count: count,
        stored_parts: complete.map((p) => ({ part_number: p.partNumber, etag: p.etag, size: p.size })),
        parts,
        expires_at: expiresAt(),
      };
    },

    async abortUpload(videoId) {
      const video = await pendingVideo(videoId);
      if (video.upload_id) {
        await storageCall(() => deps.storage.abortMultipartUpload(video.source_key, video.upload_id!));
      }
      await registry.remove(video.id);
    },

    async register(input) {
      checkOwner(input.ownerId);
      if (input.sizeBytes !== undefined && input.sizeBytes > maxUploadBytes) throw tooLarge(input.sizeBytes);
      const metadata = metadataJson(input.metadata ?? null);
      await checkExternalIdFree(input.ownerId, input.externalId);
      const id = randomUUID();
      const sourceKey = storageKeys.source(input.ownerId, id);
      const ttl = deps.uploadUrlTtlSeconds;
      const contentType = input.contentType ?? 'video/mp4';
      let upload: UploadInstructions;
      let uploadId: string | null = null;
      if (input.sizeBytes !== undefined && input.sizeBytes > deps.multipartThresholdBytes) {
        const size = input.sizeBytes;
        const count = partCount(size);
        if (count > 10_000)
          throw new InvalidInputError('The file is too large for a multipart upload (10,000 parts).');
        const created = await storageCall(() =>
          deps.storage.createMultipartUpload(sourceKey, { contentType }),
        );
        uploadId = created.uploadId;
        // The first parts only: a big file's other part URLs are asked for as the upload goes.
        const first = Math.min(count, PART_URL_BATCH);
        const parts = await storageCall(() =>
          Promise.all(
            Array.from({ length: first }, async (_, i) => ({
              part_number: i + 1,
              url: await presignPart(sourceKey, created.uploadId, size, i + 1),
            })),
          ),
        );
        upload = {
          method: 'multipart',
          video_id: id,
          upload_id: created.uploadId,
          part_size: partBytes(size),
          part_count: count,
          parts,
          expires_at: expiresAt(),
        };
      } else {
        // Bound to the registration: this type, this length (or at most MAX_UPLOAD_BYTES when none was given),
        // and create-only, so the URL can never replace a stored source.
        const url = await storageCall(() =>
          deps.storage.presignPut(sourceKey, {
            expiresInSeconds: ttl,
            contentType,
            createOnly: true,
            ...(input.sizeBytes === undefined
              ? { maxLength: maxUploadBytes }
              : { contentLength: input.sizeBytes }),
          }),
        );
        upload = {
          method: 'PUT',
          url,
          headers: { 'content-type': contentType, 'if-none-match': '*' },
          expires_at: expiresAt(),
        };
      }
      let video: VideoRow;
      try {
        video = await deps.db.transaction().execute(async (trx) => {
          const row = await insertVideo(trx, {
            id,
            owner_id: input.ownerId,
            title: input.title ?? null,
            metadata,
            external_id: input.externalId ?? null,
            source_key: sourceKey,
            content_type: contentType,
            size_bytes: input.sizeBytes ?? null,
            upload_status: UploadStatus.Pending,
            upload_id: uploadId,
          });
          await events.publish(trx, WebhookEventType.VideoCreated, { video: toVideoJson(row) });
          return row;
        });
      } catch (error) {
        // Another registration took the external id meanwhile: free the multipart upload made for this one.
        if (uploadId) await deps.storage.abortMultipartUpload(sourceKey, uploadId).catch(() => {});
        throw externalIdConflict(error, input.externalId);
      }
      events.wake();
      return { video, upload };
    },

    async presignParts(videoId, partNumbers) {
      const video = await get(videoId);
      if (video.upload_status === UploadStatus.Complete || !video.upload_id || video.size_bytes === null) {
        throw new ConflictError(
          ErrorCode.Conflict,
          video.upload_status === UploadStatus.Complete
            ? alreadyComplete
            : 'This upload is a single PUT, not multipart: it has no parts.',
        );
      }
      const size = Number(video.size_bytes);
      const count = partCount(size);
      const wanted = [...new Set(partNumbers)].sort((a, b) => a - b);
      if (wanted.length === 0 || wanted.length > PART_URL_BATCH) {
        throw new InvalidInputError(`Ask for 1 to ${PART_URL_BATCH} part numbers at a time.`);
      }
      const outside = wanted.find((n) => !Number.isInteger(n) || n < 1 || n > count);
      if (outside !== undefined) {
        throw new InvalidInputError(`This upload has parts 1 to ${count}; there is no part ${outside}.`);
      }
      const uploadId = video.upload_id;
      const parts = await storageCall(() =>
        Promise.all(
          wanted.map(async (n) => ({
            part_number: n,
            url: await presignPart(video.source_key, uploadId, size, n),
          })),
        ),
      );
      return { parts, expires_at: expiresAt() };
    },

    async acceptsUpload(key) {
      const row = await deps.db
        .selectFrom('videos')
        .select('upload_status')
        .where('source_key', '=', key)
        .executeTakeFirst();
      return row?.upload_status === UploadStatus.Pending;
    },

    async completeUpload(videoId, parts, options) {
      const video = await get(videoId);
      if (video.upload_status === UploadStatus.Complete) return video;
      const registeredSize = video.size_bytes === null ? null : Number(video.size_bytes);
      if (video.upload_id) {
        if (!parts || parts.length === 0) {
          throw new InvalidInputError('This upload is multipart: send the parts with their ETags.');
        }
        const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
        const count = registeredSize === null ? sorted.length : partCount(registeredSize);
        sorted.forEach((part, i) => {
          if (i > 0 && sorted[i - 1]?.partNumber === part.partNumber) {
            throw new InvalidInputError(`Part ${part.partNumber} is listed twice.`);
          }
        });
        const missing = Array.from({ length: count }, (_, i) => i + 1).filter(
          (n) => !sorted.some((p) => p.partNumber === n),
        );
        const extra = sorted.find((p) => p.partNumber > count);
        if (missing.length > 0 || extra) {
          throw new InvalidInputError(
            extra
              ? `This upload has parts 1 to ${count}; there is no part ${extra.partNumber}.`
              : `Every part is needed to complete the upload: part${missing.length > 1 ? 's' : ''} ` +
                  `${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} missing.`,
          );
        }
        await storageCall(() =>
          deps.storage.completeMultipartUpload(video.source_key, video.upload_id!, sorted),
        );
      }
      const head = await storageCall(() => deps.storage.headObject(video.source_key));
      if (!head) {
        throw new ConflictError(
          ErrorCode.UploadIncomplete,
          'Nothing has been uploaded to the upload URL yet.',
        );
      }
      const wrongSize = registeredSize !== null && head.size !== registeredSize;
      if (wrongSize || head.size > maxUploadBytes) {
        // Not this registration's file: remove it, so the upload URL (create-only) can take the right one.
        await storageCall(() => deps.storage.deleteObject(video.source_key));
        if (!wrongSize) throw tooLarge(head.size);
        throw new ConflictError(
          ErrorCode.UploadIncomplete,
          `The stored file has ${head.size} bytes but ${registeredSize} were registered; it was removed. ` +
            'Upload the registered file again, then complete.',
        );
      }
      if (options?.checkContainer !== false) await refuseUnreadable(video, head.size);
      // Only the request that makes the transition announces it; a concurrent second one answers the video.
      const updated = await deps.db.transaction().execute(async (trx) => {
        const row = await markUploadComplete(trx, video.id, { sizeBytes: head.size });
        if (row) await events.publish(trx, WebhookEventType.UploadCompleted, { video: toVideoJson(row) });
        return row;
      });
      if (!updated) return get(video.id);
      events.wake();
      return deps.onSourceReady ? deps.onSourceReady(updated) : updated;
    },

    async importExisting(input) {
      checkOwner(input.ownerId);
      try {
        assertValidKey(input.sourceKey);
      } catch (error) {
        throw new InvalidInputError(
          `source_key must be the key of an object in the bucket: ${(error as Error).message}`,
        );
      }
      if (isGeneratedKey(input.sourceKey)) {
        throw new InvalidInputError(
          'source_key names an object the service generated for a video (under an `…_hls/` or `…_captions/` ' +
            'prefix); only source files can be imported.',
        );
      }
      const head = await storageCall(() => deps.storage.headObject(input.sourceKey));
      if (!head)
        throw new InvalidInputError(`No object named ${JSON.stringify(input.sourceKey)} in the bucket.`);
      if (head.size > maxUploadBytes) throw tooLarge(head.size);
      const metadata = metadataJson(input.metadata ?? null);
      let video: VideoRow;
      try {
        // Imported means created with its source already stored: both events, in order.
        video = await deps.db.transaction().execute(async (trx) => {
          const row = await insertVideo(trx, {
            id: randomUUID(),
            owner_id: input.ownerId,
            title: input.title ?? null,
            metadata,
            external_id: input.externalId ?? null,
            source_key: input.sourceKey,
            content_type: head.contentType ?? null,
            size_bytes: head.size,
            upload_status: UploadStatus.Complete,
          });
          await events.publish(trx, WebhookEventType.VideoCreated, { video: toVideoJson(row) });
          await events.publish(trx, WebhookEventType.UploadCompleted, { video: toVideoJson(row) });
          return row;
        });
        events.wake();
      } catch (error) {
        if (isExternalIdTaken(error)) throw externalIdConflict(error, input.externalId);
        if ((error as { code?: string }).code === '23505') {
          throw new ConflictError(ErrorCode.Conflict, 'That object is already registered as a video.');
        }
        throw error;
      }
      return deps.onSourceReady ? deps.onSourceReady(video) : video;
    },

    async remove(videoId) {
      const video = await get(videoId);
      const ownSource = video.source_key === storageKeys.source(video.owner_id, video.id);
      // The row goes first: a worker still generating loses its lease and cleans up after itself. A source the
      // service named is watched by cleanup as long as an upload URL may still be used (a late PUT stores it):
      // `GET …/upload` renews URLs until now, so the last one handed out lives until now plus the TTL.
      const deleted = await deps.db.transaction().execute(async (trx) => {
        const row = await deleteVideoRow(trx, video.id);
        if (row) await events.publish(trx, WebhookEventType.VideoDeleted, { video: toVideoJson(row) });
        if (ownSource) {
          const until = new Date(clock().getTime() + deps.uploadUrlTtlSeconds * 1000 + ORPHAN_GRACE_MS);
          await trx
            .insertInto('orphaned_sources')
            .values({ source_key: video.source_key, remove_until: until })
            .onConflict((oc) =>
              oc.column('source_key').doUpdateSet({ remove_until: until, created_at: sql`now()` }),
            )
            .execute();
        }
        return row;
      });
      if (deleted) events.wake();
      if (video.upload_id)
        await deps.storage.abortMultipartUpload(video.source_key, video.upload_id).catch(() => {});
      // Only this video's own objects: an imported source is deleted unless it lies under generated prefixes
      // (which imports refuse, but an older registration may name).
      if (ownSource || !isGeneratedKey(video.source_key)) await deps.storage.deleteObject(video.source_key);
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
  return registry;
}
