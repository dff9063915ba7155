import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createManagementClient } from '../../client-sdk/src/server.js';
import {
  concurrencyFor,
  fetchPut,
  uploadFile,
  type PutTransport,
  type ResumeStore,
  type UploadApi,
} from '../../client-sdk/src/uploader.js';
import type { Video } from '../../client-sdk/src/types.js';
import { createVideoRegistry, partSizeFor } from '../src/videos/video-registry.js';
import { videoLikeBytes } from './helpers/media.js';
import { startTestServer, VARIANTS, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const noWait = { sleep: async () => {}, random: () => 0.5 };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const partOf = (url: string) => Number(new URL(url).searchParams.get('partNumber'));

/** A `localStorage` stand-in that outlives the uploads made with it, as the browser's does across a reload. */
const memoryStore = (): ResumeStore & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => void map.set(key, value),
    removeItem: (key) => void map.delete(key),
  };
};

describe.each(VARIANTS)('the resumable uploader (%s)', (variant) => {
  let server: TestServer;
  let dir: string;
  let manage: ReturnType<typeof createManagementClient>;

  beforeAll(async () => {
    server = await startTestServer(variant, {
      CLEANUP_INTERVAL_SECONDS: '0',
      MULTIPART_THRESHOLD_BYTES: String(6 * MiB),
      MULTIPART_PART_BYTES: String(PART),
    });
    manage = createManagementClient({ baseUrl: server.url, apiKey: server.serviceApiKey });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-uploader-'));
  });

  afterAll(async () => {
    await server?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const stored = async (key: string) => {
    const { body } = await server.storage.getObject(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };

  /** A file on disk read as it sends, as the CLI does. */
  const fileOf = async (name: string, size: number) => {
    const bytes = videoLikeBytes(size);
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return { bytes, blob: await openAsBlob(file) };
  };

  it('survives a network that drops mid-part and stays down through the retries, with the same bytes', async () => {
    const { bytes, blob } = await fileOf('dropped.mp4', 4 * PART + 1234);
    const sent: number[] = [];
    let downFor = 0;
    let dropped = false;
    const flaky: PutTransport = async (request) => {
      const n = partOf(request.url);
      sent.push(n);
      if (n === 3 && !dropped) {
        // The link goes away while part 3 sends: six attempts fail.
        dropped = true;
        downFor = 6;
      }
      if (downFor > 0) {
        downFor--;
        // Half the body reaches storage, then the connection dies.
        const half = new AbortController();
        const put = fetchPut({ stream: true })({
          ...request,
          signal: half.signal,
          onProgress: (s) => {
            if (s > (request.body as Blob).size / 2) half.abort();
            request.onProgress(s);
          },
        });
        await put.catch(() => {});
        throw new TypeError('network connection lost');
      }
      return fetchPut({ stream: true })(request);
    };
    const progress: number[] = [];
    const retrying: number[] = [];
    const upload = uploadFile({
      api: manage,
      file: blob,
      register: { owner_id: 'alice', content_type: 'video/mp4' },
      store: false,
      put: flaky,
      concurrency: 1,
      clock: noWait,
      onProgress: ({ loaded }) => progress.push(loaded),
    });
    upload.addEventListener('retrying', (e) => retrying.push((e as CustomEvent).detail.attempt));
    const video = await upload.done;
    expect(video).toMatchObject({ upload_status: 'complete', size_bytes: bytes.length });
    expect(sha256(await stored(`videos/alice/${video.id}.mp4`))).toBe(sha256(bytes));
    // Part retries ran out (1 + 3 attempts), the uploader waited, asked the server, and went on.
    expect(retrying.length).toBeGreaterThanOrEqual(1);
    expect(sent.filter((n) => n === 1)).toHaveLength(1);
    expect(sent.filter((n) => n === 2)).toHaveLength(1);
    expect(progress.at(-1)).toBe(bytes.length);
  });

  it('resumes after a reload from the stored parts, sending none of them again', async () => {
    const { bytes, blob } = await fileOf('reload.mp4', 3 * PART + 99);
    const store = memoryStore();
    const sent: number[] = [];
    let firstPage: ReturnType<typeof uploadFile> | undefined;
    const untilTwoParts: PutTransport = async (request) => {
      const answer = await fetchPut()(request);
      sent.push(partOf(request.url));
      // The page is reloaded once two parts are stored.
      if (sent.length === 2) firstPage?.pause();
      return answer;
    };
    firstPage = uploadFile({
      api: manage,
      file: blob,
      register: { owner_id: 'alice' },
      store,
      resumeKey: 'reload.mp4',
      put: untilTwoParts,
      concurrency: 1,
      clock: noWait,
    });
    await expect(firstPage.done).rejects.toMatchObject({ name: 'AbortError' });
    const videoId = firstPage.videoId!;
    expect(store.map.get('reload.mp4')).toBe(videoId);

    // After the reload: the same file, the same store.
    const again: number[] = [];
    const progress: number[] = [];
    const secondPage = uploadFile({
      api: manage,
      file: blob,
      register: { owner_id: 'alice' },
      store,
      resumeKey: 'reload.mp4',
      put: async (request) => {
        again.push(partOf(request.url));
        return fetchPut()(request);
      },
      clock: noWait,
      onProgress: ({ loaded }) => progress.push(loaded),
    });
    const registered = new Promise((resolve) =>
      secondPage.addEventListener('registered', (e) => resolve((e as CustomEvent).detail)),
    );
    const video = await secondPage.done;
    expect(await registered).toEqual({ video_id: videoId, resumed: true });
    expect(video.id).toBe(videoId);
    expect(again.sort()).toEqual([1, 2, 3, 4].filter((n) => !sent.slice(0, 2).includes(n)));
    // Progress starts from what was stored before the reload.
    expect(progress[0]).toBeGreaterThanOrEqual(2 * PART);
    expect(sha256(await stored(`videos/alice/${video.id}.mp4`))).toBe(sha256(bytes));
    expect(store.map.has('reload.mp4')).toBe(false);
  });

  /**
   * The management client, except that registration goes through a registry whose URLs live one second, and the
   * upload starts only once they have expired: an upload that outlived UPLOAD_URL_TTL_SECONDS (at least 60 s in
   * the configuration) between being handed its URLs and sending with them.
   */
  const withExpiredUrls = (): UploadApi => {
    const shortLived = createVideoRegistry({
      db: server.database.db,
      storage: server.storage,
      uploadUrlTtlSeconds: 1,
      multipartThresholdBytes: 6 * MiB,
      multipartPartBytes: PART,
    });
    return {
      ...manage,
      registerVideo: async (input) => {
        const { video, upload } = await shortLived.register({
          ownerId: input.owner_id!,
          sizeBytes: input.size_bytes,
          contentType: input.content_type,
        });
        const expired = Date.parse(upload.expires_at) + 1500;
        while (Date.now() < expired) await new Promise((resolve) => setTimeout(resolve, 250));
        return { video: { id: video.id } as Video, upload };
      },
    };
  };

  it('renews expired part URLs and goes on, with the same bytes', async () => {
    const { bytes, blob } = await fileOf('expired.mp4', 3 * PART + 777);
    const answers: string[] = [];
    const partUrlRequests: number[][] = [];
    const api = withExpiredUrls();
    const video = await uploadFile({
      api: {
        ...api,
        requestPartUrls: (id, numbers, o) => {
          partUrlRequests.push(numbers);
          return api.requestPartUrls(id, numbers, o);
        },
      },
      file: blob,
      register: { owner_id: 'alice', content_type: 'video/mp4' },
      store: false,
      concurrency: 1,
      clock: noWait,
      put: async (request) => {
        const answer = await fetchPut()(request);
        answers.push(`${partOf(request.url)}:${answer.status}`);
        return answer;
      },
    }).done;
    expect(video).toMatchObject({ upload_status: 'complete', size_bytes: bytes.length });
    // Part 1's URL had expired (storage refused it); fresh URLs for parts 1–4 came in one request, and every part
    // went through with them.
    expect(answers).toEqual(['1:403', '1:200', '2:200', '3:200', '4:200']);
    expect(partUrlRequests).toEqual([[1, 2, 3, 4]]);
    expect(sha256(await stored(`videos/alice/${video.id}.mp4`))).toBe(sha256(bytes));
  });

  it('renews an expired single-PUT URL through GET …/upload and goes on', async () => {
    const { bytes, blob } = await fileOf('expired-small.mp4', 256 * 1024);
    const answers: number[] = [];
    const video = await uploadFile({
      api: withExpiredUrls(),
      file: blob,
      register: { owner_id: 'alice', content_type: 'video/mp4' },
      store: false,
      clock: noWait,
      put: async (request) => {
        const answer = await fetchPut()(request);
        answers.push(answer.status);
        return answer;
      },
    }).done;
    expect(answers).toEqual([403, 200]);
    expect(video).toMatchObject({ upload_status: 'complete', size_bytes: bytes.length });
    expect(sha256(await stored(`videos/alice/${video.id}.mp4`))).toBe(sha256(bytes));
  });

  it('aborts: the parts are freed on the server and the video removed', async () => {
    const { blob } = await fileOf('abort.mp4', 2 * PART + 1);
    const store = memoryStore();
    let handle: ReturnType<typeof uploadFile> | undefined;
    let stop: Promise<void> | undefined;
    handle = uploadFile({
      api: manage,
      file: blob,
      register: { owner_id: 'alice' },
      store,
      resumeKey: 'abort.mp4',
      concurrency: 1,
      put: async (request) => {
        const answer = await fetchPut()(request);
        stop ??= handle!.abort();
        return answer;
      },
    });
    await expect(handle.done).rejects.toMatchObject({ name: 'AbortError' });
    await stop;
    const id = handle.videoId!;
    await expect(manage.uploadState(id)).rejects.toMatchObject({ status: 404 });
    expect(await server.storage.listObjects(`videos/alice/${id}`)).toEqual([]);
    expect(store.map.size).toBe(0);
  });

  it('uploads a small file with one PUT; part size and concurrency grow with the file', async () => {
    const { bytes, blob } = await fileOf('small.mp4', 64 * 1024);
    const video = await uploadFile({ api: manage, file: blob, register: { owner_id: 'alice' }, store: false })
      .done;
    expect(video).toMatchObject({ upload_status: 'complete', size_bytes: bytes.length });
    // Larger files get larger parts (at most about 1,000 of them) and more parts in flight.
    expect(partSizeFor(100 * MiB, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(3 * 1024 * MiB, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(20 * 1024 * MiB, 8 * MiB)).toBe(21 * MiB);
    expect(Math.ceil((20 * 1024 * MiB) / partSizeFor(20 * 1024 * MiB, 8 * MiB))).toBeLessThanOrEqual(1000);
    expect([10e6, 100e6, 1e9, 3e9].map(concurrencyFor)).toEqual([2, 4, 6, 6]);
  });
});
