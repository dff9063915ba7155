import { createLocalObjectStore, type LocalObjectStore } from './local/local-object-store.js';
import { signedUrl, signingKey, verifyRequest, type SignatureRefusal } from './local/signed-urls.js';

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

/**
 * Local storage: the object store on disk plus its signed-URL scheme. The HTTP routes that answer its URLs live in
 * the transport (`http/routes/local-storage-routes.ts`), mounted at `routePrefix`.
 */
export interface LocalStorage extends LocalObjectStore {
  /** Path the storage's routes are mounted at: its URLs are `<publicBaseUrl><routePrefix>/o/<key>?…`. */
  readonly routePrefix: string;
  /**
   * Checks the signature a request to `method` on `key` carries in its query: `null` when valid and unexpired,
   * else why it is refused.
   */
  verifySignature(method: 'GET' | 'PUT', key: string, query: URLSearchParams): SignatureRefusal | null;
  /** Seconds a (verified) signed URL has left to live at this moment; 0 once expired. */
  remainingSeconds(query: URLSearchParams): number;
  /**
   * Asks `guard` before taking a presigned whole-object PUT: `false` refuses it with 403 `upload_closed` (the
   * service answers whether the key still belongs to a pending upload, so a URL stops working once its video's
   * upload is complete or the video is deleted, even before it expires).
   */
  setUploadGuard(guard: ((key: string) => Promise<boolean>) | undefined): void;
  /** Whether a presigned whole-object PUT to `key` may still be taken (the guard's answer; `true` without one). */
  acceptsUpload(key: string): Promise<boolean>;
}

export type { SignatureRefusal } from './local/signed-urls.js';

/**
 * Storage in a local folder, for the embedded default: objects on disk (`local/local-object-store.ts`) and
 * presigned URLs that behave like S3's (`local/signed-urls.ts`): HMAC-signed, expiring, refused with 403 when
 * missing, tampered or expired.
 *
 * @example
 * const storage = createLocalStorage({ root: './data/storage', secret, publicBaseUrl: () => 'http://localhost:8080' });
 * app.route(storage.routePrefix, createLocalStorageRoutes(storage));
 * const url = await storage.presignGet('videos/u1/v1.mp4', { expiresInSeconds: 3600 });
 */
export function createLocalStorage(options: LocalStorageOptions): LocalStorage {
  const routePrefix = options.routePrefix ?? '/storage';
  const now = options.now ?? Date.now;
  if (!/^(\/[^/?#]+)*$/.test(routePrefix)) {
    throw new RangeError(
      `routePrefix must be empty or start with "/" and not end with "/", got ${routePrefix}`,
    );
  }
  const key = signingKey(options.secret);
  const store = createLocalObjectStore({
    root: options.root,
    signUrl: (request, expiresInSeconds, signedAt) =>
      signedUrl(
        { key, publicBaseUrl: options.publicBaseUrl(), routePrefix, nowMs: signedAt?.getTime() ?? now() },
        request,
        expiresInSeconds,
      ),
  });
  let uploadGuard: ((key: string) => Promise<boolean>) | undefined;
  return Object.assign(store, {
    routePrefix,
    verifySignature: (method: 'GET' | 'PUT', objectKey: string, query: URLSearchParams) =>
      verifyRequest(key, method, objectKey, query, now()),
    remainingSeconds: (query: URLSearchParams) =>
      Math.max(0, Math.floor(Number(query.get('X-Expires') ?? 0) - now() / 1000)),
    setUploadGuard(guard: ((key: string) => Promise<boolean>) | undefined) {
      uploadGuard = guard;
    },
    async acceptsUpload(objectKey: string) {
      return uploadGuard ? uploadGuard(objectKey) : true;
    },
  });
}

/** Whether `storage` is local storage (whose signed URLs the service answers itself). */
export function isLocalStorage(storage: { kind: string }): storage is LocalStorage {
  return storage.kind === 'local' && 'verifySignature' in storage;
}
