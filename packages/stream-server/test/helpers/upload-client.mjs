// A user's machine uploading a file with the SDK's resumable uploader, in a process of its own (so its memory is
// its own to measure, apart from the server's). Started by `fork()` with one JSON argument; it reports what happens
// to its parent over IPC and exits when the upload is done or has failed for good.
//
// Argument: { baseUrl, apiKey, file, ownerId, videoId?, resumes? }. Messages: { type: 'registered', video_id,
// resumed }, { type: 'put', part, size, file_slice }, { type: 'progress', loaded, total }, { type: 'retrying',
// attempt }, { type: 'memory', baseline_rss, peak_rss }, then { type: 'done', video } or { type: 'failed', name,
// message }.
import { openAsBlob } from 'node:fs';

import { createManagementClient } from '@notetaker/client-sdk/server';
import { fetchPut, uploadFile } from '@notetaker/client-sdk/uploader';

const input = JSON.parse(process.argv[2] ?? '{}');
const send = (message) => new Promise((resolve) => process.send(message, () => resolve()));

const file = await openAsBlob(input.file);
const baselineRss = process.memoryUsage.rss();
// The transport the CLI uses (bodies streamed with their length, progress while they send), counted per request.
const streamed = fetchPut({ stream: true });
const upload = uploadFile({
  api: createManagementClient({ baseUrl: input.baseUrl, apiKey: input.apiKey }),
  file,
  register: { owner_id: input.ownerId, content_type: 'video/mp4' },
  store: false,
  ...(input.videoId ? { videoId: input.videoId } : {}),
  ...(input.resumes !== undefined ? { resumes: input.resumes } : {}),
  put: (request) => {
    void send({
      type: 'put',
      part: Number(new URL(request.url).searchParams.get('partNumber') ?? 0),
      size: request.body.size ?? request.body.byteLength,
      // A slice of the file on disk, read as it sends (a Uint8Array would mean the bytes were read into memory).
      file_slice: request.body instanceof Blob,
    });
    return streamed(request);
  },
});
let lastReported = 0;
upload.addEventListener('progress', ({ detail }) => {
  // At most one message per MiB (the transport reports every 64 KiB).
  if (detail.loaded - lastReported < 1 << 20 && detail.loaded < detail.total) return;
  lastReported = detail.loaded;
  void send({ type: 'progress', loaded: detail.loaded, total: detail.total });
});
upload.addEventListener('registered', ({ detail }) => void send({ type: 'registered', ...detail }));
upload.addEventListener('retrying', ({ detail }) => void send({ type: 'retrying', attempt: detail.attempt }));

let outcome;
try {
  outcome = { type: 'done', video: await upload.done };
} catch (error) {
  outcome = { type: 'failed', name: error?.name, message: String(error?.message ?? error) };
}
// `maxRSS` is the peak resident set of this process over its life, in KiB.
await send({ type: 'memory', baseline_rss: baselineRss, peak_rss: process.resourceUsage().maxRSS * 1024 });
await send(outcome);
process.disconnect();
