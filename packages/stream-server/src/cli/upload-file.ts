import fs from 'node:fs';
import { Readable } from 'node:stream';

import { PART_URL_BATCH, type UploadInstructions } from '../videos/video-registry.js';

/** Asks the API for the URLs of more parts (`POST …/videos/{id}/upload/parts`). */
export type RequestPartUrls = (partNumbers: number[]) => Promise<Array<{ part_number: number; url: string }>>;

/**
 * Uploads a file to the instructions the management API gave (one PUT, or presigned multipart parts; the URLs of
 * parts beyond the first batch come from `requestParts`, a batch at a time).
 * `onProgress` gets the bytes handed to the network so far, while each request streams, and the total at the end.
 */
export async function uploadFile(
  filePath: string,
  sizeBytes: number,
  upload: UploadInstructions,
  onProgress?: (uploadedBytes: number) => void,
  requestParts?: RequestPartUrls,
): Promise<Array<{ part_number: number; etag: string }> | undefined> {
  let confirmed = 0;
  const put = async (url: string, start: number, end: number, headers: Record<string, string>) => {
    const stream = fs.createReadStream(filePath, { start, end: end - 1 });
    let sent = 0;
    stream.on('data', (chunk) => {
      sent += chunk.length;
      onProgress?.(confirmed + sent);
    });
    const body = Readable.toWeb(stream) as ReadableStream;
    const response = await fetch(url, {
      method: 'PUT',
      body: end > start ? body : new Uint8Array(),
      headers: { ...headers, 'content-length': String(end - start) },
      duplex: 'half',
    } as RequestInit);
    if (!response.ok) {
      throw new Error(`Upload refused by storage: HTTP ${response.status} ${await response.text().catch(() => '')}`.trim());
    }
    await response.arrayBuffer().catch(() => undefined);
    return response.headers.get('etag') ?? '';
  };

  if (upload.method === 'PUT') {
    await put(upload.url, 0, sizeBytes, upload.headers);
    onProgress?.(sizeBytes);
    return undefined;
  }
  const parts: Array<{ part_number: number; etag: string }> = [];
  const count = upload.part_count ?? upload.parts.length;
  const urls = new Map(upload.parts.map((p) => [p.part_number, p.url]));
  for (let number = 1; number <= count; number++) {
    let url = urls.get(number);
    if (url === undefined) {
      if (!requestParts) throw new Error(`No URL for part ${number} and no way to ask for more`);
      const batch = Array.from({ length: Math.min(PART_URL_BATCH, count - number + 1) }, (_, i) => number + i);
      for (const part of await requestParts(batch)) urls.set(part.part_number, part.url);
      url = urls.get(number);
      if (url === undefined) throw new Error(`The server gave no URL for part ${number}`);
    }
    urls.delete(number);
    const start = (number - 1) * upload.part_size;
    const end = Math.min(sizeBytes, start + upload.part_size);
    const etag = await put(url, start, end, {});
    parts.push({ part_number: number, etag });
    confirmed += end - start;
    onProgress?.(confirmed);
  }
  return parts;
}
