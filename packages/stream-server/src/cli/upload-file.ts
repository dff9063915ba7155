import fs from 'node:fs';

import type { ManagementClient, Video } from '@notetaker/client-sdk/server';
import { fetchPut, uploadFile as uploadResumably } from '@notetaker/client-sdk/uploader';

export interface UploadFileInput {
  /** The management client the registration, part URLs, resume state and completion go through. */
  manage: ManagementClient;
  filePath: string;
  /** Registration fields: `owner_id`, `title`, `content_type`. */
  register: { owner_id: string; title?: string; content_type?: string };
  /** Bytes handed to the network so far, while each request streams. */
  onProgress?: (uploadedBytes: number) => void;
  /** Called when the network failed through a part's retries and the upload waits to resume. */
  onRetry?: (attempt: number, delayMs: number) => void;
}

/**
 * Registers a file and uploads it with the SDK's resumable uploader (the one the web page uses): parallel parts
 * adapted to the file's size, per-part retries, and after a lost network a wait and a resume from the parts the
 * server holds. The file is read from disk as each request sends (never whole into memory), every body goes with
 * its content-length (the URLs are signed with it). Resolves with the completed video.
 */
export async function uploadFile(input: UploadFileInput): Promise<Video> {
  const file = await fs.openAsBlob(input.filePath);
  const upload = uploadResumably({
    api: input.manage,
    file,
    register: input.register,
    store: false,
    put: fetchPut({ stream: true }),
    onProgress: ({ loaded }) => input.onProgress?.(loaded),
  });
  upload.addEventListener('retrying', (event) => {
    const { attempt, delay_ms } = (event as CustomEvent<{ attempt: number; delay_ms: number }>).detail;
    input.onRetry?.(attempt, delay_ms);
  });
  return upload.done;
}
