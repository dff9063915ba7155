import type { Config } from '../config/load-config.js';
import { createLocalStorage, type LocalStorage } from '../storage/local-storage.js';
import type { Storage } from '../storage/storage.js';

/**
 * The storage the config describes: S3-protocol when `S3_BUCKET` is set, else local storage under the data folder.
 * The AWS SDK (~25 MB of memory once loaded) is imported only for S3.
 */
export async function createStorage(
  config: Pick<Config, 'storage'>,
  options: { storageSecret: string; publicBaseUrl: () => string },
): Promise<Storage | LocalStorage> {
  const settings = config.storage;
  if (settings.kind === 's3') {
    const { createS3Storage } = await import('../storage/s3-storage.js');
    return createS3Storage({
      bucket: settings.bucket,
      endpoint: settings.endpoint,
      region: settings.region,
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      forcePathStyle: settings.forcePathStyle,
    });
  }
  return createLocalStorage({
    root: settings.root,
    secret: options.storageSecret,
    publicBaseUrl: options.publicBaseUrl,
    routePrefix: '/storage',
  });
}
