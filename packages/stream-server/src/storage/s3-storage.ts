import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createGetPresigner } from './s3-presign-get.js';
import { assertValidExpiry, assertValidKey, assertValidPartNumber, assertValidPrefix } from './object-key.js';
import { StorageError, StorageErrorCode } from './storage.js';
import type {
  CompletedPart,
  ObjectInfo,
  PresignGetOptions,
  PresignOptions,
  PresignPutOptions,
  PutOptions,
  Storage,
  StoredPart,
} from './storage.js';

export interface S3StorageOptions {
  /** Custom endpoint for R2, MinIO and other S3-protocol servers; omit for AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Omit both keys to use the SDK's default credential chain (environment, profile, instance role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO needs it). */
  forcePathStyle?: boolean;
  /** Attempts per request, including the first (default 5). */
  maxAttempts?: number;
  /** Keys per ListObjectsV2 page, 1–1000 (default 1000). */
  listPageSize?: number;
}

/**
 * The headers a presigned upload binds: only those given (the presigner leaves Content-Type unsigned unless asked,
 * and an UploadPart carries a default one no client sends).
 */
function signedUploadHeaders(given: {
  contentType?: unknown;
  contentLength?: unknown;
  createOnly?: unknown;
}) {
  return new Set([
    ...(given.contentType === undefined ? [] : ['content-type']),
    ...(given.contentLength === undefined ? [] : ['content-length']),
    ...(given.createOnly ? ['if-none-match'] : []),
  ]);
}

/** DeleteObjects accepts at most this many keys per request. */
const DELETE_BATCH_SIZE = 1000;

const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'IDPCommunicationError',
]);

const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function statusOf(error: unknown): number | undefined {
  return (error as SdkErrorShape | null)?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as SdkErrorShape | null)?.name;
  return statusOf(error) === 404 || name === 'NotFound' || name === 'NoSuchKey' || name === 'NoSuchUpload';
}

function isAbort(error: unknown): boolean {
  return (error as SdkErrorShape | null)?.name === 'AbortError';
}

/**
 * Turns an SDK or network error into a `StorageError`: 5xx, throttling, timeouts and connection failures are
 * transient; other 4xx are not. Aborts by the caller are passed through unchanged.
 */
export function toStorageError(error: unknown, action: string): unknown {
  if (error instanceof StorageError || isAbort(error)) return error;
  const shape = (error ?? {}) as SdkErrorShape;
  const status = statusOf(error);
  const name = shape.name ?? 'Error';
  const networkCode = shape.code ?? ((shape as { cause?: SdkErrorShape }).cause?.code || undefined);
  const transient =
    (status !== undefined && (status >= 500 || status === 429 || status === 408)) ||
    TRANSIENT_ERROR_NAMES.has(name) ||
    (networkCode !== undefined && TRANSIENT_NETWORK_CODES.has(networkCode)) ||
    (status === undefined && /socket hang up|network|timed? ?out/i.test(shape.message ?? '')) ||
    Boolean(shape.$retryable);
  let code: StorageErrorCode;
  if (transient) code = StorageErrorCode.Unavailable;
  else if (isNotFound(error)) code = StorageErrorCode.NotFound;
  else if (status === 412 || name === 'PreconditionFailed') code = StorageErrorCode.PreconditionFailed;
  else if (status === 401 || status === 403) code = StorageErrorCode.AccessDenied;
  else if (status !== undefined && status >= 400) code = StorageErrorCode.InvalidRequest;
  else code = StorageErrorCode.Failed;
  if (typeof error === 'object' && error !== null && Object.hasOwn(error, '$response')) {
    // Keep the raw HTTP response (sockets and all) out of logs and test output; it stays readable.
    Object.defineProperty(error, '$response', { enumerable: false });
  }
  const detail = [name, networkCode, status === undefined ? undefined : `HTTP ${status}`]
    .filter(Boolean)
    .join(', ');
  // No HTTP answer at all: the bucket is out of reach (an outage), not answering "not now".
  const unreachable =
    transient &&
    status === undefined &&
    ((networkCode !== undefined && TRANSIENT_NETWORK_CODES.has(networkCode)) ||
      /socket hang up|network|timed? ?out/i.test(shape.message ?? ''));
  return new StorageError(`S3 ${action} failed (${detail}): ${shape.message ?? String(error)}`, transient, {
    cause: error,
    code,
    unreachable,
  });
}

function etagOf(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Storage on any S3-protocol service (AWS S3, Cloudflare R2, MinIO). The SDK retries transient failures
 * (`maxAttempts`); what still fails is thrown as `StorageError` with `transient` set for the job runner.
 *
 * @example
 * const storage = createS3Storage({ region: 'auto', bucket: 'videos', endpoint: 'https://<account>.r2.cloudflarestorage.com',
 *   accessKeyId: '…', secretAccessKey: '…' });
 * await storage.putObject('videos/u1/v1_hls/playlist.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
 * const url = await storage.presignGet('videos/u1/v1.mp4', { expiresInSeconds: 3600 });
 */
export function createS3Storage(options: S3StorageOptions): Storage {
  const { bucket } = options;
  const maxAttempts = options.maxAttempts ?? 5;
  const pageSize = options.listPageSize ?? 1000;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError('maxAttempts must be >= 1');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
    throw new RangeError('listPageSize must be between 1 and 1000');
  }
  if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
    throw new RangeError('Give both accessKeyId and secretAccessKey, or neither');
  }

  const makeClient = (attempts: number): S3Client =>
    new S3Client({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.accessKeyId !== undefined && options.secretAccessKey !== undefined
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
      maxAttempts: attempts,
      // Default checksums wrap stream bodies in aws-chunked framing that S3-compatible servers may store
      // verbatim; compute checksums only where the API requires them (what R2 and MinIO users set too).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    });

  const client = makeClient(maxAttempts);
  // Playlists presign every segment: GETs are signed directly, with the credentials the client resolves.
  const presignObjectGet = createGetPresigner({
    region: options.region,
    bucket,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    credentials: () => client.config.credentials(),
  });
  // Stream bodies cannot be replayed, so they go through a client that never retries by itself.
  let singleAttemptClient: S3Client | undefined;
  const oneShot = (): S3Client => (singleAttemptClient ??= makeClient(1));

  async function run<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toStorageError(error, action);
    }
  }

  function putInput(key: string, body: PutObjectCommandInput['Body'], opts: PutOptions | undefined) {
    return {
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(opts?.contentType === undefined ? {} : { ContentType: opts.contentType }),
      ...(opts?.contentLength === undefined ? {} : { ContentLength: opts.contentLength }),
      ...(opts?.cacheControl === undefined ? {} : { CacheControl: opts.cacheControl }),
    } satisfies PutObjectCommandInput;
  }

  async function listPage(prefix: string, continuationToken: string | undefined) {
    return client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        MaxKeys: pageSize,
        ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }),
      }),
    );
  }

  const storage: Storage = {
    kind: 's3',

    async putObject(key, body, opts) {
      assertValidKey(key);
      if (body instanceof Readable) {
        if (opts?.contentLength === undefined) {
          throw new StorageError(`S3 put ${key}: contentLength is required for stream bodies`, false, {
            code: StorageErrorCode.InvalidRequest,
          });
        }
        await run(`put ${key}`, () =>
          oneShot().send(new PutObjectCommand(putInput(key, body, opts)), {
            ...(opts.signal === undefined ? {} : { abortSignal: opts.signal }),
          }),
        );
        return;
      }
      await run(`put ${key}`, () =>
        client.send(new PutObjectCommand(putInput(key, body, opts)), {
          ...(opts?.signal === undefined ? {} : { abortSignal: opts.signal }),
        }),
      );
    },

    async putFile(key, filePath, opts) {
      assertValidKey(key);
      const size = await run(`put ${key} (reading ${filePath})`, async () => (await stat(filePath)).size);
      const send = { ...(opts?.signal === undefined ? {} : { abortSignal: opts.signal }) };
      // Files are streamed from disk, never read into memory: the SDK signs a stream body as UNSIGNED-PAYLOAD
      // instead of hashing every byte (segment uploads are most of generation's CPU otherwise, and memory would
      // follow how many segments are in flight). Integrity in transit is TLS's; S3 still checks Content-Length.
      // One fresh read stream per attempt, so a retry never sends a half-consumed stream.
      for (let attempt = 1; ; attempt++) {
        const body = createReadStream(filePath);
        try {
          await oneShot().send(
            new PutObjectCommand(putInput(key, body, { ...opts, contentLength: size })),
            send,
          );
          return;
        } catch (error) {
          body.destroy();
          const mapped = toStorageError(error, `put ${key}`);
          const retryable = mapped instanceof StorageError && mapped.transient && !opts?.signal?.aborted;
          if (!retryable || attempt >= maxAttempts) throw mapped;
          const delay = Math.min(100 * 2 ** (attempt - 1), 5_000) * (0.5 + Math.random() / 2);
          await sleep(delay, undefined, opts?.signal ? { signal: opts.signal } : undefined);
        }
      }
    },

    async getObject(key, opts) {
      assertValidKey(key);
      const res = await run(`get ${key}`, () =>
        client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
          ...(opts?.signal === undefined ? {} : { abortSignal: opts.signal }),
        }),
      );
      const body = res.Body;
      if (!(body instanceof Readable)) {
        throw new StorageError(`S3 get ${key}: the response has no readable body`, true);
      }
      return {
        body,
        info: {
          key,
          size: res.ContentLength ?? 0,
          contentType: res.ContentType,
          etag: etagOf(res.ETag),
          lastModified: res.LastModified,
        },
      };
    },

    async getObjectText(key, opts) {
      assertValidKey(key);
      return run(`get ${key}`, async () => {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
          ...(opts?.signal === undefined ? {} : { abortSignal: opts.signal }),
        });
        if (!res.Body) throw new StorageError(`S3 get ${key}: the response has no body`, true);
        return res.Body.transformToString('utf-8');
      });
    },

    async readHead(key, length, opts) {
      assertValidKey(key);
      try {
        const res = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${Math.max(0, length - 1)}` }),
          { ...(opts?.signal === undefined ? {} : { abortSignal: opts.signal }) },
        );
        if (!res.Body) throw new StorageError(`S3 read ${key}: the response has no body`, true);
        return (await res.Body.transformToByteArray()).subarray(0, length);
      } catch (error) {
        // An empty object has no byte 0: S3 answers 416 to any range.
        if (statusOf(error) === 416 || (error as SdkErrorShape).name === 'InvalidRange')
          return new Uint8Array();
        throw toStorageError(error, `read the start of ${key}`);
      }
    },

    async headObject(key) {
      assertValidKey(key);
      try {
        const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return {
          key,
          size: res.ContentLength ?? 0,
          contentType: res.ContentType,
          etag: etagOf(res.ETag),
          lastModified: res.LastModified,
        };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw toStorageError(error, `head ${key}`);
      }
    },

    async deleteObject(key) {
      assertValidKey(key);
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        if (isNotFound(error) && (error as SdkErrorShape).name !== 'NoSuchBucket') return;
        throw toStorageError(error, `delete ${key}`);
      }
    },

    async deletePrefix(prefix) {
      assertValidPrefix(prefix, { allowEmpty: false });
      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await run(`list ${prefix}`, () => listPage(prefix, token));
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
        for (let i = 0; i < keys.length; i += DELETE_BATCH_SIZE) {
          const batch = keys.slice(i, i + DELETE_BATCH_SIZE);
          const res = await run(`delete ${batch.length} objects under ${prefix}`, () =>
            client.send(
              new DeleteObjectsCommand({
                Bucket: bucket,
                Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
              }),
            ),
          );
          const errors = res.Errors ?? [];
          if (errors.length > 0) {
            const first = errors[0];
            const transient = errors.some((e) => TRANSIENT_ERROR_NAMES.has(e.Code ?? ''));
            throw new StorageError(
              `S3 delete under ${prefix}: ${errors.length} of ${batch.length} objects were not deleted ` +
                `(first: ${first?.Key ?? '?'}: ${first?.Code ?? '?'} ${first?.Message ?? ''})`,
              transient,
            );
          }
          deleted += batch.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return deleted;
    },

    async listObjects(prefix) {
      assertValidPrefix(prefix, { allowEmpty: true });
      const out: ObjectInfo[] = [];
      let token: string | undefined;
      do {
        const page = await run(`list ${prefix}`, () => listPage(prefix, token));
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          out.push({ key: o.Key, size: o.Size ?? 0, etag: etagOf(o.ETag), lastModified: o.LastModified });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      return out;
    },

    async presignGet(key: string, opts: PresignGetOptions) {
      assertValidKey(key);
      assertValidExpiry(opts.expiresInSeconds);
      const signedAt = opts.signedAt ?? new Date();
      // A cache may keep the answer until the URL expires; Expires is absolute, so the URL stays the same all window.
      const overrides = opts.sharedCache
        ? {
            cacheControl: 'public',
            expires: new Date(signedAt.getTime() + opts.expiresInSeconds * 1000).toUTCString(),
          }
        : {};
      return run(`presign get ${key}`, () =>
        presignObjectGet(key, opts.expiresInSeconds, signedAt, overrides),
      );
    },

    localPath(key: string) {
      // The objects live in the bucket: a reader fetches them through a presigned URL.
      assertValidKey(key);
      return undefined;
    },

    async presignPut(key: string, opts: PresignPutOptions) {
      assertValidKey(key);
      assertValidExpiry(opts.expiresInSeconds);
      // Content-Type, Content-Length and If-None-Match become signed headers: S3 refuses a PUT whose type or length
      // differs from what was registered, and (create-only) any PUT once the object exists.
      return run(`presign put ${key}`, () =>
        getSignedUrl(
          client,
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(opts.contentType === undefined ? {} : { ContentType: opts.contentType }),
            ...(opts.contentLength === undefined ? {} : { ContentLength: opts.contentLength }),
            ...(opts.createOnly ? { IfNoneMatch: '*' } : {}),
          }),
          { expiresIn: opts.expiresInSeconds, signableHeaders: signedUploadHeaders(opts) },
        ),
      );
    },

    async createMultipartUpload(key, opts) {
      assertValidKey(key);
      const res = await run(`create multipart upload ${key}`, () =>
        client.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ...(opts?.contentType === undefined ? {} : { ContentType: opts.contentType }),
          }),
        ),
      );
      if (!res.UploadId) throw new StorageError(`S3 create multipart upload ${key}: no upload id`, true);
      return { uploadId: res.UploadId };
    },

    async presignUploadPart(key, uploadId, partNumber, opts) {
      assertValidKey(key);
      assertValidPartNumber(partNumber);
      assertValidExpiry(opts.expiresInSeconds);
      return run(`presign part ${partNumber} of ${key}`, () =>
        getSignedUrl(
          client,
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            ...(opts.contentLength === undefined ? {} : { ContentLength: opts.contentLength }),
          }),
          {
            expiresIn: opts.expiresInSeconds,
            signableHeaders: signedUploadHeaders({ contentLength: opts.contentLength }),
          },
        ),
      );
    },

    async completeMultipartUpload(key, uploadId, parts: CompletedPart[]) {
      assertValidKey(key);
      if (parts.length === 0) {
        throw new StorageError(`S3 complete ${key}: no parts given`, false, {
          code: StorageErrorCode.InvalidRequest,
        });
      }
      parts.forEach((p) => assertValidPartNumber(p.partNumber));
      const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
      sorted.forEach((p, i) => {
        if (i > 0 && sorted[i - 1]?.partNumber === p.partNumber) {
          throw new StorageError(`S3 complete ${key}: part ${p.partNumber} listed twice`, false, {
            code: StorageErrorCode.InvalidRequest,
          });
        }
      });
      await run(`complete multipart upload ${key}`, () =>
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: sorted.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        ),
      );
    },

    async abortMultipartUpload(key, uploadId) {
      assertValidKey(key);
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        if ((error as SdkErrorShape).name === 'NoSuchUpload') return;
        throw toStorageError(error, `abort multipart upload ${key}`);
      }
    },

    async listParts(key, uploadId) {
      assertValidKey(key);
      const parts: StoredPart[] = [];
      let marker: string | undefined;
      for (;;) {
        const page = await run(`list parts of ${key}`, () =>
          client.send(
            new ListPartsCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              ...(marker === undefined ? {} : { PartNumberMarker: marker }),
            }),
          ),
        );
        for (const part of page.Parts ?? []) {
          if (part.PartNumber === undefined || !part.ETag) continue;
          parts.push({ partNumber: part.PartNumber, etag: part.ETag, size: part.Size ?? 0 });
        }
        if (!page.IsTruncated || page.NextPartNumberMarker === undefined) break;
        marker = page.NextPartNumberMarker;
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
    },

    async ping() {
      await run(`head bucket ${bucket}`, () => client.send(new HeadBucketCommand({ Bucket: bucket })));
    },

    async close() {
      client.destroy();
      singleAttemptClient?.destroy();
    },
  };
  return storage;
}
