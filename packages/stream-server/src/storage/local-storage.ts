import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { constants as fsConstants, createReadStream, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import {
  copyFile,
  access,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { cors } from 'hono/cors';
import { assertValidExpiry, assertValidKey, assertValidPartNumber, assertValidPrefix } from './object-key.js';
import { StorageError, StorageErrorCode } from './storage.js';
import type { CompletedPart, ObjectInfo, PutOptions, Storage } from './storage.js';

export interface LocalStorageOptions {
  /** Folder that holds the objects (created on first write). */
  root: string;
  /** Key for signing URLs; at least 16 bytes. Keep it stable across restarts, or issued URLs stop working. */
  secret: string | Uint8Array;
  /** Public origin (and path, if any) the service is reached at, e.g. `http://localhost:8080`. Read per URL. */
  publicBaseUrl: () => string;
  /** Path the routes are mounted at (default `/storage`). */
  routePrefix?: string;
  /** Current time in milliseconds (default `Date.now`). */
  now?: () => number;
}

export interface LocalStorageRoutesOptions {
  /** Origins allowed to read and upload from browsers: `'*'` for any, or an exact list. */
  corsOrigins: '*' | string[];
}

/** Local storage plus the HTTP routes that serve its signed URLs. */
export interface LocalStorage extends Storage {
  readonly kind: 'local';
  /**
   * A Hono app answering presigned GET/HEAD/PUT requests (and CORS preflights); mount it at `routePrefix`.
   *
   * @example
   * app.route('/storage', storage.routes({ corsOrigins: '*' }));
   */
  routes(options: LocalStorageRoutesOptions): Hono;
  /**
   * Asks `guard` before taking a presigned whole-object PUT: `false` refuses it with 403 `upload_closed` (the
   * service answers whether the key still belongs to a pending upload, so a URL stops working once its video's
   * upload is complete or the video is deleted, even before it expires).
   */
  setUploadGuard(guard: ((key: string) => Promise<boolean>) | undefined): void;
}

/** Error codes of the storage routes, in `{ "error": { "code", "message" } }` bodies. */
export const LocalStorageRouteErrorCode = {
  SignatureMissing: 'signature_missing',
  SignatureInvalid: 'signature_invalid',
  UrlExpired: 'url_expired',
  InvalidKey: 'invalid_key',
  NotFound: 'not_found',
  NoSuchUpload: 'no_such_upload',
  RangeNotSatisfiable: 'range_not_satisfiable',
  InvalidRequest: 'invalid_request',
  UploadClosed: 'upload_closed',
  PreconditionFailed: 'precondition_failed',
  InsufficientStorage: 'insufficient_storage',
  StorageUnavailable: 'storage_unavailable',
  InternalError: 'internal_error',
} as const;
export type LocalStorageRouteErrorCode =
  (typeof LocalStorageRouteErrorCode)[keyof typeof LocalStorageRouteErrorCode];

interface ObjectMeta {
  contentType?: string;
  cacheControl?: string;
  etag: string;
}

interface UploadRecord {
  key: string;
  contentType?: string;
}

/**
 * How much of a file a GET reads at a time (never more than the client consumes: one chunk in memory per request).
 * Serving a whole 1.2 GB source to ffmpeg took 1.9 s of this process's CPU with 64 KiB reads and 0.8 s with 1 MiB:
 * the cost is per read (a thread-pool round trip, a promise, a stream chunk), not per byte.
 */
const READ_CHUNK_BYTES = 1024 * 1024;
const UPLOAD_ID_PATTERN = /^[0-9a-f]{32}$/;
/**
 * What a presigned PUT may be bound to, each signed into the URL as a query parameter: the exact length, a
 * largest length, the content type, and create-only (the `If-None-Match: *` of S3).
 */
const UPLOAD_CONDITIONS = ['X-Length', 'X-Max-Length', 'X-Content-Type', 'X-Create-Only'] as const;
type UploadCondition = (typeof UPLOAD_CONDITIONS)[number];
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.vtt': 'text/vtt',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.jpg': 'image/jpeg',
  '.png': 'image/png',
};
const TRANSIENT_FS_CODES: ReadonlySet<string> = new Set([
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'EBUSY',
  'EIO',
  'ETIMEDOUT',
]);

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

function fsError(error: unknown, action: string): unknown {
  if (error instanceof StorageError || (error as Error | null)?.name === 'AbortError') return error;
  const code = errnoOf(error);
  const transient = code !== undefined && TRANSIENT_FS_CODES.has(code);
  const storageCode =
    code === 'ENOENT'
      ? StorageErrorCode.NotFound
      : code === 'EISDIR' || code === 'ENOTDIR' || code === 'ENOTEMPTY' || code === 'EEXIST'
        ? StorageErrorCode.InvalidRequest
        : code === 'EACCES' || code === 'EPERM'
          ? StorageErrorCode.AccessDenied
          : code === 'ENOSPC' || code === 'EDQUOT'
            ? StorageErrorCode.InsufficientStorage
            : undefined;
  return new StorageError(
    `Local storage ${action} failed: ${(error as Error | null)?.message ?? String(error)}`,
    transient,
    { cause: error, ...(storageCode === undefined ? {} : { code: storageCode }) },
  );
}

function tooLong(limit: number): StorageError {
  return new StorageError(`The body is longer than the ${limit} bytes this URL takes`, false, {
    code: StorageErrorCode.InvalidRequest,
  });
}

function tooShort(size: number, expected: number): StorageError {
  return new StorageError(`Received ${size} bytes; this URL takes exactly ${expected}`, false, {
    code: StorageErrorCode.InvalidRequest,
  });
}

function notFound(key: string): StorageError {
  return new StorageError(`No object at ${JSON.stringify(key)}`, false, { code: StorageErrorCode.NotFound });
}

function stripQuotes(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

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

function jsonError(status: number, code: LocalStorageRouteErrorCode, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
  });
}

function storageErrorResponse(error: StorageError): Response {
  switch (error.code) {
    case StorageErrorCode.NotFound:
      return jsonError(404, LocalStorageRouteErrorCode.NotFound, error.message);
    case StorageErrorCode.InvalidKey:
      return jsonError(400, LocalStorageRouteErrorCode.InvalidKey, error.message);
    case StorageErrorCode.InvalidRequest:
      return jsonError(400, LocalStorageRouteErrorCode.InvalidRequest, error.message);
    case StorageErrorCode.PreconditionFailed:
      return jsonError(412, LocalStorageRouteErrorCode.PreconditionFailed, error.message);
    case StorageErrorCode.InsufficientStorage:
      return jsonError(
        507,
        LocalStorageRouteErrorCode.InsufficientStorage,
        'The server has no space left to store this upload; try again later.',
      );
    case StorageErrorCode.Unavailable:
      return jsonError(503, LocalStorageRouteErrorCode.StorageUnavailable, error.message);
    default:
      return jsonError(
        500,
        LocalStorageRouteErrorCode.InternalError,
        'The object could not be stored or read.',
      );
  }
}

/**
 * Storage in a local folder, for the embedded default. Objects are plain files under `<root>/objects/`, written
 * atomically (temp file + rename) with a JSON sidecar under `<root>/meta/` for content type and ETag.
 * Presigned URLs point at the service's own routes (see `routes()`) and behave like S3's: HMAC-signed, expiring,
 * `Range`-aware, refused with 403 when missing, tampered or expired.
 *
 * @example
 * const storage = createLocalStorage({ root: './data/storage', secret, publicBaseUrl: () => 'http://localhost:8080' });
 * app.route('/storage', storage.routes({ corsOrigins: '*' }));
 * const url = await storage.presignGet('videos/u1/v1.mp4', { expiresInSeconds: 3600 });
 */
export function createLocalStorage(options: LocalStorageOptions): LocalStorage {
  const root = path.resolve(options.root);
  const objectsDir = path.join(root, 'objects');
  const metaDir = path.join(root, 'meta');
  const tmpDir = path.join(root, 'tmp');
  const uploadsDir = path.join(root, 'uploads');
  const routePrefix = options.routePrefix ?? '/storage';
  const now = options.now ?? Date.now;
  if (!/^(\/[^/?#]+)*$/.test(routePrefix)) {
    throw new RangeError(
      `routePrefix must be empty or start with "/" and not end with "/", got ${routePrefix}`,
    );
  }
  const secret =
    typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : Buffer.from(options.secret);
  if (secret.length < 16) throw new RangeError('The local storage secret must be at least 16 bytes long');

  function objectPath(key: string): string {
    assertValidKey(key);
    const resolved = path.resolve(objectsDir, ...key.split('/'));
    if (!resolved.startsWith(objectsDir + path.sep)) {
      throw new StorageError(`Key ${JSON.stringify(key)} resolves outside the storage folder`, false, {
        code: StorageErrorCode.InvalidKey,
      });
    }
    return resolved;
  }

  function metaPath(key: string): string {
    return path.join(metaDir, ...key.split('/')) + '.json';
  }

  function uploadDir(uploadId: string): string {
    if (!UPLOAD_ID_PATTERN.test(uploadId)) {
      throw new StorageError(`No multipart upload ${JSON.stringify(uploadId)}`, false, {
        code: StorageErrorCode.NotFound,
      });
    }
    return path.join(uploadsDir, uploadId);
  }

  function sign(parts: readonly string[]): Buffer {
    return createHmac('sha256', secret).update(parts.join('\n')).digest();
  }

  function presignedUrl(
    key: string,
    expiresInSeconds: number,
    method: 'GET' | 'PUT',
    extra?: [string, number],
    conditions: Partial<Record<UploadCondition, string>> = {},
  ) {
    assertValidKey(key);
    assertValidExpiry(expiresInSeconds);
    const expires = Math.floor(now() / 1000) + expiresInSeconds;
    const signed = [method, key, String(expires), ...(extra ? [extra[0], String(extra[1])] : [])];
    const query = new URLSearchParams();
    if (extra) {
      query.set('uploadId', extra[0]);
      query.set('partNumber', String(extra[1]));
    }
    for (const name of UPLOAD_CONDITIONS) {
      const value = conditions[name];
      if (value === undefined) continue;
      signed.push(`${name}=${value}`);
      query.set(name, value);
    }
    query.set('X-Expires', String(expires));
    query.set('X-Signature', sign(signed).toString('base64url'));
    const base = options.publicBaseUrl().replace(/\/+$/, '');
    return `${base}${routePrefix}/o/${encodeKey(key)}?${query.toString()}`;
  }

  async function readMeta(key: string, size: number, mtimeMs: number): Promise<ObjectMeta> {
    try {
      const parsed = JSON.parse(await readFile(metaPath(key), 'utf8')) as Partial<ObjectMeta>;
      if (typeof parsed.etag === 'string') return parsed as ObjectMeta;
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT' && !(error instanceof SyntaxError)) throw fsError(error, `read ${key}`);
    }
    // A file placed in the folder by hand: derive what S3 would tell.
    return {
      contentType: CONTENT_TYPES[path.extname(key).toLowerCase()] ?? DEFAULT_CONTENT_TYPE,
      etag: `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`,
    };
  }

  async function removeQuietly(file: string): Promise<void> {
    await rm(file, { force: true }).catch(() => undefined);
  }

  /** Removes a temp file once its stream has let go of it (a failed write may still be opening it). */
  async function removeTemp(file: string, stream: WriteStream | undefined): Promise<void> {
    if (stream && !stream.closed) {
      await new Promise<void>((resolve) => {
        stream.once('close', resolve);
        stream.destroy();
      });
    }
    await removeQuietly(file);
  }

  /** Removes empty folders from `dir` up to (not including) `stopAt`. */
  async function pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
    let current = dir;
    while (current.startsWith(stopAt + path.sep)) {
      try {
        await rmdir(current);
      } catch {
        return;
      }
      current = path.dirname(current);
    }
  }

  /** Moves a finished temp file into place, recreating parents a concurrent prune may have removed. */
  async function moveIntoPlace(from: string, to: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await mkdir(path.dirname(to), { recursive: true });
      try {
        await rename(from, to);
        return;
      } catch (error) {
        if (errnoOf(error) !== 'ENOENT' || attempt >= 3) throw error;
      }
    }
  }

  /**
   * Writes an object atomically: the body goes to a temp file while its MD5 is computed, then the sidecar and
   * the file are renamed into place. Readers see the old object or the new one, never a partial one.
   */
  async function writeObject(
    key: string,
    source: Readable | AsyncIterable<Uint8Array>,
    opts: {
      contentType?: string | undefined;
      cacheControl?: string | undefined;
      signal?: AbortSignal | undefined;
      /** When given, a body of any other length is refused (as S3 does). */
      contentLength?: number | undefined;
      /** When given, a longer body is refused as soon as it is longer. */
      maxLength?: number | undefined;
      /** Refuse (412) when an object is already stored under `key`, atomically. */
      createOnly?: boolean | undefined;
      etag?: () => string;
    },
  ): Promise<{ etag: string; size: number }> {
    const target = objectPath(key);
    const tmp = path.join(tmpDir, randomUUID());
    const tmpMeta = `${tmp}.json`;
    const md5 = createHash('md5');
    let size = 0;
    let out: WriteStream | undefined;
    try {
      await mkdir(tmpDir, { recursive: true });
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array | string>) {
          for await (const chunk of chunks) {
            const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
            md5.update(bytes);
            size += bytes.length;
            const limit = opts.contentLength ?? opts.maxLength;
            if (limit !== undefined && size > limit) {
              // Stop reading at once: a body longer than it may be is never written out in full.
              throw new StorageError(
                `Write ${key}: the body is longer than the ${limit} bytes this upload takes`,
                false,
                { code: StorageErrorCode.InvalidRequest },
              );
            }
            yield bytes;
          }
        },
        (out = createWriteStream(tmp)),
        ...(opts.signal ? [{ signal: opts.signal }] : []),
      );
      if (opts.contentLength !== undefined && size !== opts.contentLength) {
        throw new StorageError(
          `Write ${key}: received ${size} bytes, expected ${opts.contentLength}`,
          false,
          { code: StorageErrorCode.InvalidRequest },
        );
      }
      const etag = opts.etag ? opts.etag() : `"${md5.digest('hex')}"`;
      if (opts.createOnly) await commitNewObject(key, tmp, etag, opts);
      else await commitObject(key, tmp, etag, opts);
      return { etag, size };
    } catch (error) {
      await removeTemp(tmp, out);
      await removeQuietly(tmpMeta);
      throw fsError(error, `write ${key}`);
    }
  }

  /** Puts a complete temp file (and its sidecar) into place under `key`: readers see the old object or the new. */
  async function commitObject(
    key: string,
    tmp: string,
    etag: string,
    opts: { contentType?: string | undefined; cacheControl?: string | undefined },
  ): Promise<void> {
    const tmpMeta = `${tmp}.json`;
    const meta: ObjectMeta = {
      etag,
      contentType: opts.contentType ?? CONTENT_TYPES[path.extname(key).toLowerCase()] ?? DEFAULT_CONTENT_TYPE,
      ...(opts.cacheControl === undefined ? {} : { cacheControl: opts.cacheControl }),
    };
    await writeFile(tmpMeta, JSON.stringify(meta));
    await moveIntoPlace(tmpMeta, metaPath(key));
    await moveIntoPlace(tmp, objectPath(key));
  }

  /**
   * Like `commitObject`, but only when nothing is stored under `key` yet: the object is hard-linked into place
   * (which fails when the name exists, atomically), then its sidecar follows.
   */
  async function commitNewObject(
    key: string,
    tmp: string,
    etag: string,
    opts: { contentType?: string | undefined; cacheControl?: string | undefined },
  ): Promise<void> {
    const target = objectPath(key);
    for (let attempt = 0; ; attempt++) {
      await mkdir(path.dirname(target), { recursive: true });
      try {
        await link(tmp, target);
        break;
      } catch (error) {
        if (errnoOf(error) === 'EEXIST') {
          throw new StorageError(`An object is already stored at ${JSON.stringify(key)}`, false, {
            code: StorageErrorCode.PreconditionFailed,
          });
        }
        if (errnoOf(error) !== 'ENOENT' || attempt >= 3) throw error;
      }
    }
    await removeQuietly(tmp);
    const tmpMeta = `${tmp}.json`;
    const meta: ObjectMeta = {
      etag,
      contentType: opts.contentType ?? CONTENT_TYPES[path.extname(key).toLowerCase()] ?? DEFAULT_CONTENT_TYPE,
      ...(opts.cacheControl === undefined ? {} : { cacheControl: opts.cacheControl }),
    };
    await writeFile(tmpMeta, JSON.stringify(meta));
    await moveIntoPlace(tmpMeta, metaPath(key));
  }

  async function openObject(
    key: string,
  ): Promise<{ handle: FileHandle; info: ObjectInfo; cacheControl?: string }> {
    const file = objectPath(key);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') throw notFound(key);
      throw fsError(error, `open ${key}`);
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw notFound(key);
      const meta = await readMeta(key, stats.size, stats.mtimeMs);
      return {
        handle,
        info: {
          key,
          size: stats.size,
          contentType: meta.contentType,
          etag: meta.etag,
          lastModified: stats.mtime,
        },
        ...(meta.cacheControl === undefined ? {} : { cacheControl: meta.cacheControl }),
      };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw fsError(error, `open ${key}`);
    }
  }

  async function walk(dir: string, relative: string, out: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return;
      throw fsError(error, 'list');
    }
    for (const entry of entries) {
      const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), rel, out);
      else if (entry.isFile()) out.push(rel);
    }
  }

  async function listKeys(prefix: string): Promise<string[]> {
    const slash = prefix.lastIndexOf('/');
    const dirPart = slash === -1 ? '' : prefix.slice(0, slash);
    const start = dirPart === '' ? objectsDir : path.join(objectsDir, ...dirPart.split('/'));
    const keys: string[] = [];
    await walk(start, dirPart, keys);
    return keys.filter((k) => k.startsWith(prefix)).sort(compareKeys);
  }

  async function removeObject(key: string): Promise<boolean> {
    const file = objectPath(key);
    let existed = true;
    try {
      await unlink(file);
    } catch (error) {
      const code = errnoOf(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') throw fsError(error, `delete ${key}`);
      existed = false;
    }
    await removeQuietly(metaPath(key));
    await pruneEmptyDirs(path.dirname(file), objectsDir);
    await pruneEmptyDirs(path.dirname(metaPath(key)), metaDir);
    return existed;
  }

  async function readUpload(uploadId: string): Promise<UploadRecord> {
    const dir = uploadDir(uploadId);
    try {
      return JSON.parse(await readFile(path.join(dir, 'upload.json'), 'utf8')) as UploadRecord;
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') {
        throw new StorageError(`No multipart upload ${uploadId}`, false, { code: StorageErrorCode.NotFound });
      }
      throw fsError(error, `read upload ${uploadId}`);
    }
  }

  function partPath(uploadId: string, partNumber: number): string {
    return path.join(uploadDir(uploadId), `part-${String(partNumber).padStart(5, '0')}`);
  }

  async function writePart(
    key: string,
    uploadId: string,
    partNumber: number,
    source: Readable,
    contentLength?: number,
  ): Promise<string> {
    assertValidPartNumber(partNumber);
    const upload = await readUpload(uploadId);
    if (upload.key !== key) {
      throw new StorageError(`Upload ${uploadId} is not for ${JSON.stringify(key)}`, false, {
        code: StorageErrorCode.NotFound,
      });
    }
    const tmp = path.join(tmpDir, randomUUID());
    const md5 = createHash('md5');
    let out: WriteStream | undefined;
    try {
      await mkdir(tmpDir, { recursive: true });
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          let size = 0;
          for await (const chunk of chunks) {
            md5.update(chunk);
            size += chunk.length;
            if (contentLength !== undefined && size > contentLength) throw tooLong(contentLength);
            yield chunk;
          }
          if (contentLength !== undefined && size !== contentLength) throw tooShort(size, contentLength);
        },
        (out = createWriteStream(tmp)),
      );
      await rename(tmp, partPath(uploadId, partNumber));
      return `"${md5.digest('hex')}"`;
    } catch (error) {
      await removeTemp(tmp, out);
      if (errnoOf(error) === 'ENOENT') {
        throw new StorageError(`No multipart upload ${uploadId}`, false, { code: StorageErrorCode.NotFound });
      }
      throw fsError(error, `write part ${partNumber} of ${key}`);
    }
  }

  function checkSignature(c: Context, key: string, method: 'GET' | 'PUT'): Response | null {
    const url = new URL(c.req.url);
    const expires = url.searchParams.get('X-Expires');
    const signature = url.searchParams.get('X-Signature');
    if (!expires || !signature) {
      return jsonError(403, LocalStorageRouteErrorCode.SignatureMissing, 'This URL is not signed.');
    }
    const uploadId = url.searchParams.get('uploadId');
    const partNumber = url.searchParams.get('partNumber');
    const signed = [method, key, expires];
    if (method === 'PUT' && (uploadId !== null || partNumber !== null))
      signed.push(uploadId ?? '', partNumber ?? '');
    for (const name of UPLOAD_CONDITIONS) {
      const value = url.searchParams.get(name);
      if (value !== null) signed.push(`${name}=${value}`);
    }
    const expected = Buffer.from(sign(signed).toString('base64url'));
    const given = Buffer.from(signature);
    if (
      !/^\d{1,15}$/.test(expires) ||
      given.length !== expected.length ||
      !timingSafeEqual(given, expected)
    ) {
      return jsonError(403, LocalStorageRouteErrorCode.SignatureInvalid, 'The URL signature does not match.');
    }
    if (now() / 1000 > Number(expires)) {
      return jsonError(
        403,
        LocalStorageRouteErrorCode.UrlExpired,
        'This URL has expired; ask for a new one.',
      );
    }
    return null;
  }

  /**
   * The signed bounds of a PUT, checked against its headers before any byte is read: a declared length other
   * than the signed one, a content type other than the signed one, or create-only without `If-None-Match: *`
   * are refused with 400 (S3 refuses the same requests, as signature mismatches).
   */
  function uploadBounds(c: Context):
    | Response
    | { length?: number; maxLength?: number; contentType?: string; createOnly: boolean } {
    const url = new URL(c.req.url);
    const number = (name: string) => {
      const value = url.searchParams.get(name);
      return value === null ? undefined : Number(value);
    };
    const length = number('X-Length');
    const maxLength = number('X-Max-Length');
    const contentType = url.searchParams.get('X-Content-Type') ?? undefined;
    const createOnly = url.searchParams.get('X-Create-Only') === '1';
    const header = c.req.header('content-length');
    const declared = header === undefined ? undefined : Number(header);
    if (length !== undefined && declared !== undefined && declared !== length) {
      return jsonError(
        400,
        LocalStorageRouteErrorCode.InvalidRequest,
        `This upload URL takes exactly ${length} bytes (the registered size); the request declares ${header}.`,
      );
    }
    if (maxLength !== undefined && declared !== undefined && declared > maxLength) {
      return jsonError(
        400,
        LocalStorageRouteErrorCode.InvalidRequest,
        `This upload URL takes at most ${maxLength} bytes; the request declares ${header}.`,
      );
    }
    const sentType = c.req.header('content-type');
    if (contentType !== undefined && sentType !== undefined && sentType !== contentType) {
      return jsonError(
        400,
        LocalStorageRouteErrorCode.InvalidRequest,
        `This upload URL takes Content-Type ${contentType} (the registered type).`,
      );
    }
    if (createOnly && c.req.header('if-none-match') !== '*') {
      return jsonError(
        400,
        LocalStorageRouteErrorCode.InvalidRequest,
        'This upload URL needs the header If-None-Match: * (it never replaces a stored object).',
      );
    }
    return {
      ...(length === undefined ? {} : { length }),
      ...(maxLength === undefined ? {} : { maxLength }),
      ...(contentType === undefined ? {} : { contentType }),
      createOnly,
    };
  }

  function requestBody(c: Context): Readable {
    const body = c.req.raw.body;
    return body ? Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>) : Readable.from([]);
  }

  let uploadGuard: ((key: string) => Promise<boolean>) | undefined;

  const storage: LocalStorage = {
    kind: 'local',

    setUploadGuard(guard) {
      uploadGuard = guard;
    },

    async putObject(key, body, opts?: PutOptions) {
      objectPath(key);
      const source =
        body instanceof Readable
          ? body
          : Readable.from([typeof body === 'string' ? Buffer.from(body) : body]);
      await writeObject(key, source, {
        contentType: opts?.contentType,
        cacheControl: opts?.cacheControl,
        signal: opts?.signal,
        contentLength: opts?.contentLength,
      });
    },

    async putFile(key, filePath, opts) {
      objectPath(key);
      opts?.signal?.throwIfAborted();
      // A hard link for a finished file, else a kernel-side copy (no pass through JavaScript, no digest): HLS
      // segments are stored this way by the thousand. The ETag only has to change when the object does, as S3's
      // does; it is not an MD5 here.
      const tmp = path.join(tmpDir, randomUUID());
      try {
        await mkdir(tmpDir, { recursive: true });
        const linked =
          opts?.finalFile === true &&
          (await link(filePath, tmp).then(
            () => true,
            () => false,
          ));
        if (!linked) await copyFile(filePath, tmp);
        await commitObject(key, tmp, `"${randomBytes(16).toString('hex')}"`, {
          contentType: opts?.contentType,
          cacheControl: opts?.cacheControl,
        });
      } catch (error) {
        await removeQuietly(tmp);
        await removeQuietly(`${tmp}.json`);
        throw fsError(error, `write ${key}`);
      }
    },

    async getObject(key, opts) {
      opts?.signal?.throwIfAborted();
      const { handle, info } = await openObject(key);
      const body = handle.createReadStream({
        autoClose: true,
        ...(opts?.signal ? { signal: opts.signal } : {}),
      });
      return { body, info };
    },

    async getObjectText(key, opts) {
      const file = objectPath(key);
      try {
        return await readFile(file, { encoding: 'utf8', ...(opts?.signal ? { signal: opts.signal } : {}) });
      } catch (error) {
        if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'EISDIR' || errnoOf(error) === 'ENOTDIR') {
          throw notFound(key);
        }
        throw fsError(error, `read ${key}`);
      }
    },

    async headObject(key) {
      try {
        const { handle, info } = await openObject(key);
        await handle.close();
        return info;
      } catch (error) {
        if (error instanceof StorageError && error.code === StorageErrorCode.NotFound) return null;
        throw error;
      }
    },

    async deleteObject(key) {
      await removeObject(key);
    },

    async deletePrefix(prefix) {
      assertValidPrefix(prefix, { allowEmpty: false });
      let deleted = 0;
      for (const key of await listKeys(prefix)) {
        if (await removeObject(key)) deleted++;
      }
      return deleted;
    },

    async listObjects(prefix) {
      assertValidPrefix(prefix, { allowEmpty: true });
      const out: ObjectInfo[] = [];
      for (const key of await listKeys(prefix)) {
        try {
          const stats = await stat(objectPath(key));
          const meta = await readMeta(key, stats.size, stats.mtimeMs);
          out.push({
            key,
            size: stats.size,
            contentType: meta.contentType,
            etag: meta.etag,
            lastModified: stats.mtime,
          });
        } catch (error) {
          if (errnoOf(error) !== 'ENOENT') throw fsError(error, `list ${prefix}`);
        }
      }
      return out;
    },

    async presignGet(key, opts) {
      return presignedUrl(key, opts.expiresInSeconds, 'GET');
    },

    async presignPut(key, opts) {
      return presignedUrl(key, opts.expiresInSeconds, 'PUT', undefined, {
        ...(opts.contentLength === undefined ? {} : { 'X-Length': String(opts.contentLength) }),
        ...(opts.contentLength !== undefined || opts.maxLength === undefined
          ? {}
          : { 'X-Max-Length': String(opts.maxLength) }),
        ...(opts.contentType === undefined ? {} : { 'X-Content-Type': opts.contentType }),
        ...(opts.createOnly ? { 'X-Create-Only': '1' } : {}),
      });
    },

    async createMultipartUpload(key, opts) {
      objectPath(key);
      const uploadId = randomBytes(16).toString('hex');
      const dir = uploadDir(uploadId);
      const record: UploadRecord = {
        key,
        ...(opts?.contentType === undefined ? {} : { contentType: opts.contentType }),
      };
      try {
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, 'upload.json'), JSON.stringify(record));
      } catch (error) {
        throw fsError(error, `create multipart upload ${key}`);
      }
      return { uploadId };
    },

    async presignUploadPart(key, uploadId, partNumber, opts) {
      assertValidPartNumber(partNumber);
      uploadDir(uploadId);
      return presignedUrl(
        key,
        opts.expiresInSeconds,
        'PUT',
        [uploadId, partNumber],
        opts.contentLength === undefined ? {} : { 'X-Length': String(opts.contentLength) },
      );
    },

    async completeMultipartUpload(key, uploadId, parts: CompletedPart[]) {
      objectPath(key);
      const upload = await readUpload(uploadId);
      if (upload.key !== key) {
        throw new StorageError(`Upload ${uploadId} is not for ${JSON.stringify(key)}`, false, {
          code: StorageErrorCode.NotFound,
        });
      }
      if (parts.length === 0) {
        throw new StorageError(`Complete ${key}: no parts given`, false, {
          code: StorageErrorCode.InvalidRequest,
        });
      }
      const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
      sorted.forEach((p, i) => {
        assertValidPartNumber(p.partNumber);
        if (i > 0 && sorted[i - 1]?.partNumber === p.partNumber) {
          throw new StorageError(`Complete ${key}: part ${p.partNumber} listed twice`, false, {
            code: StorageErrorCode.InvalidRequest,
          });
        }
      });
      const partDigests: Buffer[] = [];
      async function* concatenated(): AsyncGenerator<Uint8Array> {
        for (const part of sorted) {
          const md5 = createHash('md5');
          let stream: Readable;
          try {
            const file = partPath(uploadId, part.partNumber);
            await access(file);
            stream = createReadStream(file);
          } catch {
            throw new StorageError(`Complete ${key}: part ${part.partNumber} was not uploaded`, false, {
              code: StorageErrorCode.InvalidRequest,
            });
          }
          for await (const chunk of stream) {
            md5.update(chunk as Buffer);
            yield chunk as Buffer;
          }
          const digest = md5.digest();
          if (digest.toString('hex') !== stripQuotes(part.etag)) {
            throw new StorageError(
              `Complete ${key}: part ${part.partNumber} does not match its ETag`,
              false,
              {
                code: StorageErrorCode.InvalidRequest,
              },
            );
          }
          partDigests.push(digest);
        }
      }
      await writeObject(key, concatenated(), {
        contentType: upload.contentType,
        etag: () =>
          `"${createHash('md5').update(Buffer.concat(partDigests)).digest('hex')}-${sorted.length}"`,
      });
      await rm(uploadDir(uploadId), { recursive: true, force: true }).catch(() => undefined);
    },

    async abortMultipartUpload(key, uploadId) {
      objectPath(key);
      if (!UPLOAD_ID_PATTERN.test(uploadId)) return;
      try {
        await rm(uploadDir(uploadId), { recursive: true, force: true });
      } catch (error) {
        throw fsError(error, `abort multipart upload ${key}`);
      }
    },

    async ping() {
      try {
        const stats = await stat(root);
        if (!stats.isDirectory()) throw new Error(`${root} is not a directory`);
        await access(root, fsConstants.W_OK);
      } catch (error) {
        throw new StorageError(
          `Local storage folder ${root} is not usable: ${(error as Error).message}`,
          false,
          {
            cause: error,
          },
        );
      }
    },

    async close() {
      // Nothing to release: every file handle is closed by the request that opened it.
    },

    routes({ corsOrigins }) {
      const app = new Hono();
      app.use(
        '*',
        cors({
          origin: corsOrigins,
          allowMethods: ['GET', 'HEAD', 'PUT'],
          allowHeaders: ['Range', 'Authorization', 'Content-Type', 'If-None-Match'],
          exposeHeaders: ['Content-Length', 'Content-Range', 'Accept-Ranges', 'ETag'],
          maxAge: 600,
        }),
      );

      // Hono answers HEAD with the GET handler (and drops the body); the handler skips the body itself.
      app.get('/o/:key{.+}', async (c) => {
        const key = c.req.param('key');
        try {
          assertValidKey(key);
          objectPath(key);
        } catch (error) {
          return storageErrorResponse(error as StorageError);
        }
        const refused = checkSignature(c, key, 'GET');
        if (refused) return refused;
        let opened;
        try {
          opened = await openObject(key);
        } catch (error) {
          if (error instanceof StorageError) return storageErrorResponse(error);
          throw error;
        }
        const { handle, info, cacheControl } = opened;
        const headers = new Headers({
          'Accept-Ranges': 'bytes',
          'Content-Type': info.contentType ?? DEFAULT_CONTENT_TYPE,
          'Last-Modified': (info.lastModified ?? new Date()).toUTCString(),
        });
        if (info.etag) headers.set('ETag', info.etag);
        if (cacheControl) headers.set('Cache-Control', cacheControl);
        const range = parseRangeHeader(c.req.header('range'), info.size);
        if (range === 'unsatisfiable') {
          await handle.close();
          headers.set('Content-Range', `bytes */${info.size}`);
          headers.set('Content-Type', 'application/json; charset=utf-8');
          return new Response(
            JSON.stringify({
              error: {
                code: LocalStorageRouteErrorCode.RangeNotSatisfiable,
                message: `The requested range is outside the object (${info.size} bytes).`,
              },
            }),
            { status: 416, headers },
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
        try {
          objectPath(key);
        } catch (error) {
          return storageErrorResponse(error as StorageError);
        }
        const refused = checkSignature(c, key, 'PUT');
        if (refused) return refused;
        const uploadId = c.req.query('uploadId');
        const partNumber = c.req.query('partNumber');
        const isPart = uploadId !== undefined || partNumber !== undefined;
        const bound = uploadBounds(c);
        if (bound instanceof Response) return bound;
        try {
          if (!isPart && uploadGuard && !(await uploadGuard(key))) {
            return jsonError(
              403,
              LocalStorageRouteErrorCode.UploadClosed,
              'This upload is closed: its video was completed or deleted.',
            );
          }
          const etag = isPart
            ? await writePart(key, uploadId ?? '', Number(partNumber), requestBody(c), bound.length)
            : (
                await writeObject(key, requestBody(c), {
                  contentType: bound.contentType ?? c.req.header('content-type'),
                  signal: c.req.raw.signal,
                  contentLength: bound.length,
                  maxLength: bound.maxLength,
                  createOnly: bound.createOnly,
                })
              ).etag;
          return new Response(null, { status: 200, headers: { ETag: etag } });
        } catch (error) {
          if (!(error instanceof StorageError)) throw error;
          if (isPart && error.code === StorageErrorCode.NotFound) {
            return jsonError(
              404,
              LocalStorageRouteErrorCode.NoSuchUpload,
              'This multipart upload does not exist.',
            );
          }
          return storageErrorResponse(error);
        }
      });

      app.onError((error) => {
        if (error instanceof StorageError) return storageErrorResponse(error);
        return jsonError(500, LocalStorageRouteErrorCode.InternalError, 'The storage request failed.');
      });
      return app;
    },
  };
  return storage;
}
