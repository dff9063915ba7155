import fs from 'node:fs';

import {
  fetchPut,
  uploadSource,
  type CompletedPart,
  type PartUrl,
  type UploadTarget,
} from '@notetaker/client-sdk/server';

/** Asks the API for the URLs of more parts (`POST …/videos/{id}/upload/parts`). */
export type RequestPartUrls = (partNumbers: number[], signal: AbortSignal) => Promise<PartUrl[]>;

/**
 * Uploads a file to the instructions the API gave, with the SDK's uploader: the file is read from disk as each
 * request sends (never whole into memory), every body goes with its content-length (the URLs are signed with it),
 * and `onProgress` gets the bytes handed to the network so far, while each request streams.
 * Returns the parts `upload/complete` expects for a multipart upload, `undefined` for a single PUT.
 */
export async function uploadFile(
  filePath: string,
  sizeBytes: number,
  upload: UploadTarget,
  onProgress?: (uploadedBytes: number) => void,
  requestParts?: RequestPartUrls,
): Promise<CompletedPart[] | undefined> {
  const source = await fs.openAsBlob(filePath);
  if (source.size !== sizeBytes)
    throw new Error(`${filePath} is ${source.size} bytes, not the ${sizeBytes} registered`);
  const done = await uploadSource(upload, source, {
    put: fetchPut({ stream: true }),
    requestParts,
    onProgress: ({ loaded }) => onProgress?.(loaded),
  });
  return done.parts;
}
