import { createHash, randomBytes, randomUUID } from 'node:crypto';
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
import {
  assertValidExpiry,
  assertValidKey,
  assertValidPartNumber,
  assertValidPrefix,
} from '../object-key.js';
import { StorageError, StorageErrorCode } from '../storage.js';
import type { CompletedPart, ObjectInfo, PutOptions, Storage, StoredPart } from '../storage.js';
import type { SignedRequest, UploadConditions } from './signed-urls.js';

export interface LocalObjectStoreOptions {
  /** Folder that holds the objects (created on first write). */
  root: string;
  /**
   * Makes the absolute URL that allows `request` for `expiresInSeconds` from `signedAt` (default now) — the
   * signed-URL scheme, injected.
   */
  signUrl: (request: SignedRequest, expiresInSeconds: number, signedAt?: Date) => string;
}

/** An object opened for reading: its file handle (the reader closes it), what it is, and its cache policy. */
export interface OpenedObject {
  handle: FileHandle;
  info: ObjectInfo;
  cacheControl?: string;
}

/** How a whole-object write may be bounded. */
export interface WriteObjectOptions {
  contentType?: string | undefined;
  cacheControl?: string | undefined;
  signal?: AbortSignal | undefined;
  /** When given, a body of any other length is refused (as S3 does). */
  contentLength?: number | undefined;
  /** When given, a longer body is refused as soon as it is longer. */
  maxLength?: number | undefined;
  /** Refuse (`precondition_failed`) when an object is already stored under `key`, atomically. */
  createOnly?: boolean | undefined;
}

/**
 * The local object store: the `Storage` seam over a folder, plus the reads and writes the storage's own HTTP
 * routes need (an opened file for ranged reads, a streamed whole-object or part write).
 */
export interface LocalObjectStore extends Storage {
  readonly kind: 'local';
  /** Throws `StorageError` (`invalid_key`) for a key that is invalid or would resolve outside the folder. */
  checkKey(key: string): void;
  /** Opens an object for reading; throws `StorageError` (`not_found`) when there is none. */
  openObject(key: string): Promise<OpenedObject>;
  /** Writes a whole object from a stream, atomically; returns its ETag. */
  writeObject(
    key: string,
    source: Readable,
    options: WriteObjectOptions,
  ): Promise<{ etag: string; size: number }>;
  /** Writes one part of a multipart upload; returns its ETag. `not_found` when the upload does not exist. */
  writePart(
    key: string,
    uploadId: string,
    partNumber: number,
    source: Readable,
    contentLength?: number,
  ): Promise<string>;
}

interface ObjectMeta {
  contentType?: string;
  cacheControl?: string;
  etag: string;
}

interface UploadRecord {
  key: string;
  contentType?: string;
}

const UPLOAD_ID_PATTERN = /^[0-9a-f]{32}$/;
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
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

/**
 * Storage in a local folder, for the embedded default. Objects are plain files under `<root>/objects/`, written
 * atomically (temp file + rename) with a JSON sidecar under `<root>/meta/` for content type and ETag; multipart
 * parts wait under `<root>/uploads/`. Presigned URLs are made by `signUrl` (local storage's signed-URL scheme).
 *
 * @example
 * const store = createLocalObjectStore({ root: './data/storage', signUrl });
 * await store.putObject('videos/u1/v1.json', '{}', { contentType: 'application/json' });
 */
export function createLocalObjectStore(options: LocalObjectStoreOptions): LocalObjectStore {
  const root = path.resolve(options.root);
  const objectsDir = path.join(root, 'objects');
  const metaDir = path.join(root, 'meta');
  const tmpDir = path.join(root, 'tmp');
  const uploadsDir = path.join(root, 'uploads');

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

  function presign(request: SignedRequest, expiresInSeconds: number, signedAt?: Date): string {
    assertValidKey(request.key);
    assertValidExpiry(expiresInSeconds);
    return options.signUrl(request, expiresInSeconds, signedAt);
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
    opts: WriteObjectOptions & { etag?: () => string },
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
      const etag = `"${md5.digest('hex')}"`;
      // The part's ETag and size beside it, for listing the parts of an upload that is resumed.
      await writeFile(
        `${partPath(uploadId, partNumber)}.json`,
        JSON.stringify({ etag, size: contentLength ?? (await stat(tmp)).size }),
      );
      await rename(tmp, partPath(uploadId, partNumber));
      return etag;
    } catch (error) {
      await removeTemp(tmp, out);
      if (errnoOf(error) === 'ENOENT') {
        throw new StorageError(`No multipart upload ${uploadId}`, false, { code: StorageErrorCode.NotFound });
      }
      throw fsError(error, `write part ${partNumber} of ${key}`);
    }
  }

  const store: LocalObjectStore = {
    kind: 'local',

    checkKey(key) {
      objectPath(key);
    },

    openObject,

    writeObject(key, source, opts) {
      return writeObject(key, source, opts);
    },

    writePart,

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

    async readHead(key, length, opts) {
      opts?.signal?.throwIfAborted();
      const { handle } = await openObject(key);
      try {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, 0);
        return new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead);
      } catch (error) {
        throw fsError(error, `read the start of ${key}`);
      } finally {
        await handle.close();
      }
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
      return presign({ method: 'GET', key }, opts.expiresInSeconds, opts.signedAt);
    },

    localPath(key) {
      return objectPath(key);
    },

    async presignPut(key, opts) {
      const conditions: UploadConditions = {
        ...(opts.contentLength === undefined ? {} : { 'X-Length': String(opts.contentLength) }),
        ...(opts.contentLength !== undefined || opts.maxLength === undefined
          ? {}
          : { 'X-Max-Length': String(opts.maxLength) }),
        ...(opts.contentType === undefined ? {} : { 'X-Content-Type': opts.contentType }),
        ...(opts.createOnly ? { 'X-Create-Only': '1' } : {}),
      };
      return presign({ method: 'PUT', key, conditions }, opts.expiresInSeconds);
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
      return presign(
        {
          method: 'PUT',
          key,
          part: { uploadId, partNumber },
          conditions: opts.contentLength === undefined ? {} : { 'X-Length': String(opts.contentLength) },
        },
        opts.expiresInSeconds,
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

    async listParts(key, uploadId) {
      objectPath(key);
      const upload = await readUpload(uploadId);
      if (upload.key !== key) {
        throw new StorageError(`Upload ${uploadId} is not for ${JSON.stringify(key)}`, false, {
          code: StorageErrorCode.NotFound,
        });
      }
      let names: string[];
      try {
        names = await readdir(uploadDir(uploadId));
      } catch (error) {
        if (errnoOf(error) === 'ENOENT') {
          throw new StorageError(`No multipart upload ${uploadId}`, false, {
            code: StorageErrorCode.NotFound,
          });
        }
        throw fsError(error, `list parts of ${key}`);
      }
      const parts: StoredPart[] = [];
      for (const name of names) {
        const match = /^part-(\d{5})$/.exec(name);
        if (!match) continue;
        try {
          const meta = JSON.parse(await readFile(path.join(uploadDir(uploadId), `${name}.json`), 'utf8')) as {
            etag: string;
            size: number;
          };
          parts.push({ partNumber: Number(match[1]), etag: meta.etag, size: meta.size });
        } catch (error) {
          // A part whose record is missing is listed as not stored: the client sends it again.
          if (errnoOf(error) !== 'ENOENT') throw fsError(error, `list parts of ${key}`);
        }
      }
      return parts.sort((a, b) => a.partNumber - b.partNumber);
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
  };
  return store;
}
