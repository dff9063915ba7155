import type { Storage } from './storage.js';

/**
 * Where a process on this machine (ffmpeg, ffprobe) reads a stored object from: the object's own file when the
 * storage keeps it here (local storage), so that its bytes never pass through the service; otherwise (S3) a GET URL
 * presigned for `expiresInSeconds`, read with range requests straight from the bucket.
 *
 * @example
 * const input = await readLocation(storage, video.source_key, { expiresInSeconds: MAX_PRESIGN_SECONDS });
 * // '/data/storage/objects/uploads/u1/v1.mp4' (local) or 'https://bucket…/uploads/u1/v1.mp4?X-Amz-…' (S3)
 */
export async function readLocation(
  storage: Pick<Storage, 'localPath' | 'presignGet'>,
  key: string,
  options: { expiresInSeconds: number },
): Promise<string> {
  return storage.localPath(key) ?? (await storage.presignGet(key, options));
}
