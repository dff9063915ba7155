import fs from 'node:fs';
import { Readable } from 'node:stream';

import type { UploadInstructions } from '../videos/video-registry.js';

/**
 * Uploads a file to the instructions the management API gave (one PUT, or presigned multipart parts).
 * `onProgress` gets the bytes handed to the network so far, while each request streams, and the total at the end.
 */
export async function uploadFile(
  filePath: string,
  sizeBytes: number,
  upload: UploadInstructions,
  onProgress?: (uploadedBytes: number) => void,
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
  for (const part of upload.parts) {
    const start = (part.part_number - 1) * upload.part_size;
    const end = Math.min(sizeBytes, start + upload.part_size);
    const etag = await put(part.url, start, end, {});
    parts.push({ part_number: part.part_number, etag });
    confirmed += end - start;
    onProgress?.(confirmed);
  }
  return parts;
}
