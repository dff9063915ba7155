import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { Hono, type Context } from 'hono';

import { databaseUnavailableError } from '../../db/database-errors.js';
import { DomainError, ErrorCode } from '../../errors/domain-error.js';
import { DEFAULT_CONTENT_TYPE } from '../../storage/local/local-object-store.js';
import { uploadConditions } from '../../storage/local/signed-urls.js';
import type { LocalStorage } from '../../storage/local-storage.js';
import { StorageError, StorageErrorCode } from '../../storage/storage.js';

/**
 * How much of a file a GET reads at a time (never more than the client consumes: one chunk in memory per request).
 * Serving a whole 1.2 GB source to ffmpeg took 1.9 s of this process's CPU with 64 KiB reads and 0.8 s with 1 MiB:
 * the cost is per read (a thread-pool round trip, a promise, a stream chunk), not per byte.
 */
const READ_CHUNK_BYTES = 1024 * 1024;

type ByteRange = { start: number; end: number };

/**
 * Parses a single-range `Range` header against a size. `null` means "ignore the header, send everything"
 * (absent, malformed or multi-range); `'unsatisfiable'` means 416.
 */
export function parseRangeHeader(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | null {
  if (header === undefined) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null;
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}

/** A pull-based body over an open file: reads only what the client consumes, closes on end or cancel. */
function fileBody(handle: FileHandle, start: number, end: number): ReadableStream<Uint8Array> {
  let position = start;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close().catch(() => undefined);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const remaining = end - position + 1;
          if (remaining <= 0) {
            await close();
            controller.close();
            return;
          }
          const buffer = Buffer.allocUnsafe(Math.min(remaining, READ_CHUNK_BYTES));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
          if (bytesRead === 0) throw new Error('file ended before the announced length');
          position += bytesRead;
          controller.enqueue(new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead));
        } catch (error) {
          await close();
          controller.error(error);
        }
      },
      async cancel() {
        await close();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A storage failure in the service's words (the app's `onError` gives it its status). */
function storageFailure(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  // An upload URL asks the database whether its upload is still open: while it is out of reach, 503.
  const unavailable = databaseUnavailableError(error);
  if (unavailable) return unavailable;
  if (!(error instanceof StorageError)) {
    return new DomainError(ErrorCode.Internal, 'The storage request failed.', { cause: error });
  }
  switch (error.code) {
    case StorageErrorCode.NotFound:
      return new DomainError(ErrorCode.NotFound, error.message, { cause: error });
    case StorageErrorCode.InvalidKey:
      return new DomainError(ErrorCode.InvalidKey, error.message, { cause: error });
    case StorageErrorCode.InvalidRequest:
      return new DomainError(ErrorCode.InvalidRequest, error.message, { cause: error });
    case StorageErrorCode.PreconditionFailed:
      return new DomainError(ErrorCode.PreconditionFailed, error.message, { cause: error });
    case StorageErrorCode.InsufficientStorage:
      return new DomainError(
        ErrorCode.InsufficientStorage,
        'The server has no space left to store this upload; try again later.',
        { cause: error },
      );
    case StorageErrorCode.Unavailable:
      return new DomainError(ErrorCode.StorageUnavailable, error.message, { cause: error });
    default:
      return new DomainError(ErrorCode.Internal, 'The object could not be stored or read.', { cause: error });
  }
}

const REFUSAL_MESSAGES = {
  signature_missing: [ErrorCode.SignatureMissing, 'This URL is not signed.'],
  signature_invalid: [ErrorCode.SignatureInvalid, 'The URL signature does not match.'],
  url_expired: [ErrorCode.UrlExpired, 'This URL has expired; ask for a new one.'],
} as const;

function checkSignature(storage: LocalStorage, c: Context, key: string, method: 'GET' | 'PUT'): void {
  const refusal = storage.verifySignature(method, key, new URL(c.req.url).searchParams);
  if (refusal) {
    const [code, message] = REFUSAL_MESSAGES[refusal];
    throw new DomainError(code, message);
  }
}

/**
 * The signed bounds of a PUT, checked against its headers before any byte is read: a declared length other
 * than the signed one, a content type other than the signed one, or create-only without `If-None-Match: *`
 * are refused with `invalid_request` (S3 refuses the same requests, as signature mismatches).
 */
function uploadBounds(c: Context): ReturnType<typeof uploadConditions> {
  const bounds = uploadConditions(new URL(c.req.url).searchParams);
  const header = c.req.header('content-length');
  const declared = header === undefined ? undefined : Number(header);
  const refuse = (message: string) => new DomainError(ErrorCode.InvalidRequest, message);
  if (bounds.length !== undefined && declared !== undefined && declared !== bounds.length) {
    throw refuse(
      `This upload URL takes exactly ${bounds.length} bytes (the registered size); the request declares ${header}.`,
    );
  }
  if (bounds.maxLength !== undefined && declared !== undefined && declared > bounds.maxLength) {
    throw refuse(`This upload URL takes at most ${bounds.maxLength} bytes; the request declares ${header}.`);
  }
  const sentType = c.req.header('content-type');
  if (bounds.contentType !== undefined && sentType !== undefined && sentType !== bounds.contentType) {
    throw refuse(`This upload URL takes Content-Type ${bounds.contentType} (the registered type).`);
  }
  if (bounds.createOnly && c.req.header('if-none-match') !== '*') {
    throw refuse('This upload URL needs the header If-None-Match: * (it never replaces a stored object).');
  }
  return bounds;
}

function requestBody(c: Context): Readable {
  const body = c.req.raw.body;
  return body ? Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>) : Readable.from([]);
}

/**
 * The routes that answer local storage's signed URLs (`<routePrefix>/o/<key>?X-Expires=…&X-Signature=…`): GET
 * and HEAD with `Range`, and PUT of a whole object or of a multipart part. Failures are thrown as `DomainError`s
 * and answered by the app's `onError`; CORS is the app's (see `createApp`).
 *
 * @example
 * app.route(storage.routePrefix, createLocalStorageRoutes(storage));
 */
export function createLocalStorageRoutes(storage: LocalStorage): Hono {
  const app = new Hono();

  // Hono answers HEAD with the GET handler (and drops the body); the handler skips the body itself.
  app.get('/o/:key{.+}', async (c) => {
    const key = c.req.param('key');
    let opened;
    try {
      storage.checkKey(key);
      checkSignature(storage, c, key, 'GET');
      opened = await storage.openObject(key);
    } catch (error) {
      throw storageFailure(error);
    }
    const { handle, info, cacheControl } = opened;
    const headers = new Headers({
      'Accept-Ranges': 'bytes',
      'Content-Type': info.contentType ?? DEFAULT_CONTENT_TYPE,
      'Last-Modified': (info.lastModified ?? new Date()).toUTCString(),
    });
    if (info.etag) headers.set('ETag', info.etag);
    // A signed URL is a capability until it expires, no longer: a shared cache may keep the answer for that long.
    headers.set(
      'Cache-Control',
      cacheControl ?? `public, max-age=${storage.remainingSeconds(new URL(c.req.url).searchParams)}`,
    );
    const range = parseRangeHeader(c.req.header('range'), info.size);
    if (range === 'unsatisfiable') {
      await handle.close();
      for (const [name, value] of headers) c.header(name, value);
      c.header('Content-Range', `bytes */${info.size}`);
      throw new DomainError(
        ErrorCode.RangeNotSatisfiable,
        `The requested range is outside the object (${info.size} bytes).`,
      );
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? info.size - 1;
    headers.set('Content-Length', String(end - start + 1));
    if (range) headers.set('Content-Range', `bytes ${start}-${end}/${info.size}`);
    const status = range ? 206 : 200;
    if (c.req.method === 'HEAD' || end < start) {
      await handle.close();
      return new Response(null, { status, headers });
    }
    return new Response(fileBody(handle, start, end), { status, headers });
  });

  app.put('/o/:key{.+}', async (c) => {
    const key = c.req.param('key');
    const uploadId = c.req.query('uploadId');
    const partNumber = c.req.query('partNumber');
    const isPart = uploadId !== undefined || partNumber !== undefined;
    try {
      storage.checkKey(key);
      checkSignature(storage, c, key, 'PUT');
      const bound = uploadBounds(c);
      if (!isPart && !(await storage.acceptsUpload(key))) {
        throw new DomainError(
          ErrorCode.UploadClosed,
          'This upload is closed: its video was completed or deleted.',
        );
      }
      const etag = isPart
        ? await storage.writePart(key, uploadId ?? '', Number(partNumber), requestBody(c), bound.length)
        : (
            await storage.writeObject(key, requestBody(c), {
              contentType: bound.contentType ?? c.req.header('content-type'),
              signal: c.req.raw.signal,
              contentLength: bound.length,
              maxLength: bound.maxLength,
              createOnly: bound.createOnly,
            })
          ).etag;
      return new Response(null, { status: 200, headers: { ETag: etag } });
    } catch (error) {
      if (isPart && error instanceof StorageError && error.code === StorageErrorCode.NotFound) {
        throw new DomainError(ErrorCode.NoSuchUpload, 'This multipart upload does not exist.', {
          cause: error,
        });
      }
      throw storageFailure(error);
    }
  });

  return app;
}
