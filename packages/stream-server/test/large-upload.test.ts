// A large upload through the SDK's resumable uploader, from a client process of its own, whose network (to the API
// and to storage) runs through TCP proxies the test cuts: the first drop is ridden out by the uploader itself, the
// second outlasts its patience and the upload is resumed by a new process from the video id the caller kept. The
// stored object has the file's checksum, no part goes twice, and the client's memory stays bounded.
//
// The file is 320 MiB on every run (the same code path as any size: default part size and adapted concurrency);
// `LARGE_UPLOAD_BYTES=1073741824` (`npm run test:upload-1gb` in this package) runs it at 1 GB.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { concurrencyFor } from '../../client-sdk/src/uploader.js';
import { partSizeFor } from '../src/videos/video-registry.js';
import { makeTestMedia } from './helpers/media.js';
import { startTestServer, VARIANTS, type TestServer } from './helpers/test-server.js';
import { startCuttableProxy, type CuttableProxy } from './helpers/tcp-proxy.js';

const MiB = 1024 * 1024;
const SIZE = Number(process.env['LARGE_UPLOAD_BYTES'] ?? 320 * MiB);
/** The server's default part size (MULTIPART_PART_BYTES): the uploads here use the defaults throughout. */
const DEFAULT_PART = 16 * MiB;
const CLIENT = path.join(import.meta.dirname, 'helpers', 'upload-client.mjs');
/** Minutes per GB a loaded two-core machine may take for the whole test (write, two uploads, completion, read). */
const TIMEOUT = Math.max(5, Math.ceil((SIZE / 1e9) * 10)) * 60_000;

/**
 * Writes a video-like file of `size` bytes: a real MP4 (made by ffmpeg) followed by pseudo-random blocks (an AES-CTR
 * keystream, fast and never repeating), streamed to disk and hashed as it goes. Returns its SHA-256.
 */
async function writeVideoFile(file: string, size: number, head: Buffer): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  const keystream = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(MiB);
  const write = async (chunk: Buffer) => {
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  };
  await write(head.subarray(0, size));
  for (let left = size - Math.min(size, head.length); left > 0; left -= MiB) {
    await write(keystream.update(zeros).subarray(0, Math.min(MiB, left)));
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

/** A port nothing listens on now (for a server whose public URL must be known before it starts). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

type ClientMessage =
  | { type: 'registered'; video_id: string; resumed: boolean }
  | { type: 'put'; part: number; size: number; file_slice: boolean }
  | { type: 'progress'; loaded: number; total: number }
  | { type: 'retrying'; attempt: number }
  | { type: 'memory'; baseline_rss: number; peak_rss: number }
  | { type: 'done'; video: Record<string, any> }
  | { type: 'failed'; name: string; message: string };

/** Starts the client process; `onMessage` sees every message; resolves with all of them once it has exited. */
function runClient(
  input: Record<string, unknown>,
  onMessage: (message: ClientMessage) => void = () => {},
): { child: ChildProcess; finished: Promise<ClientMessage[]> } {
  const child = fork(CLIENT, [JSON.stringify(input)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: ClientMessage[] = [];
  child.on('message', (message: ClientMessage) => {
    messages.push(message);
    onMessage(message);
  });
  const finished = new Promise<ClientMessage[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve(messages));
  });
  return { child, finished };
}

const only = <T extends ClientMessage['type']>(messages: ClientMessage[], type: T) =>
  messages.filter((m): m is Extract<ClientMessage, { type: T }> => m.type === type);

describe.each(VARIANTS)('a large upload through the SDK over a network that drops (%s)', (variant) => {
  let server: TestServer;
  let dir: string;
  let file: string;
  let checksum: string;
  /** Between the client and the API (and, on local storage, its storage routes). */
  let apiLink: CuttableProxy;
  /** Between the client (and the server) and S3, on the S3 variant. */
  let storageLink: CuttableProxy | undefined;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-large-upload-'));
    const head = await fs.readFile(await makeTestMedia(dir, 'h264-aac-faststart', { seconds: 2 }));
    file = path.join(dir, 'meeting.mp4');
    checksum = await writeVideoFile(file, SIZE, head);

    const port = await freePort();
    apiLink = await startCuttableProxy({ host: '127.0.0.1', port });
    const env: Record<string, string> = {
      CLEANUP_INTERVAL_SECONDS: '0',
      PORT: String(port),
      HOST: '127.0.0.1',
      // Local storage signs its URLs with the public URL: the client's storage traffic goes through the link too.
      PUBLIC_URL: `http://127.0.0.1:${apiLink.port}`,
      MAX_UPLOAD_BYTES: String(SIZE * 2),
    };
    if (variant === 'postgres-s3') {
      // The S3 server starts with the test server; the link finds it when the first connection comes.
      storageLink = await startCuttableProxy(() => ({
        host: '127.0.0.1',
        port: Number(new URL(server.s3!.endpoint).port),
      }));
      env['S3_ENDPOINT'] = `http://127.0.0.1:${storageLink.port}`;
    }
    server = await startTestServer(variant, env);
  }, 600_000);

  afterAll(async () => {
    for (const child of children) child.kill();
    await apiLink?.close();
    await storageLink?.close();
    await server?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const cut = async () => Promise.all([apiLink.cut(), storageLink?.cut()]);
  const restore = async () => Promise.all([apiLink.restore(), storageLink?.restore()]);

  const storedChecksum = async (key: string) => {
    const hash = createHash('sha256');
    const { body } = await server.storage.getObject(key);
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('hex');
  };

  it(
    `survives a dropped connection, then resumes from the kept video id in a new process, with the same bytes (${(SIZE / MiB).toFixed(0)} MiB)`,
    async () => {
      const partSize = partSizeFor(SIZE, DEFAULT_PART);
      const partCount = Math.ceil(SIZE / partSize);
      const client = { baseUrl: `http://127.0.0.1:${apiLink.port}`, apiKey: server.serviceApiKey };

      // First process: the network drops at 30 % and comes back once the uploader says it is waiting to resume; it
      // drops again at 65 % and stays down past the uploader's patience (one resume), so the process gives up.
      let drops = 0;
      let stage: 'sending' | 'first drop' | 'resumed' | 'second drop' = 'sending';
      const first = runClient({ ...client, file, ownerId: 'alice', resumes: 1 }, (message) => {
        if (message.type === 'progress') {
          const fraction = message.loaded / message.total;
          if (stage === 'sending' && fraction >= 0.3) {
            stage = 'first drop';
            drops++;
            void cut();
          } else if (stage === 'resumed' && fraction >= 0.65) {
            stage = 'second drop';
            drops++;
            void cut();
          }
        }
        if (message.type === 'retrying' && stage === 'first drop') {
          stage = 'resumed';
          void restore();
        }
      });
      children.push(first.child);
      const firstRun = await first.finished;
      expect(drops).toBe(2);
      const outcome = firstRun.at(-1);
      expect(outcome).toMatchObject({ type: 'failed', name: 'StreamNetworkError' });
      const [registered] = only(firstRun, 'registered');
      expect(registered).toMatchObject({ resumed: false });
      const videoId = registered!.video_id;
      // It rode out the first drop by itself (it asked where the upload stood, and sent more).
      expect(only(firstRun, 'retrying').map((m) => m.attempt)).toEqual([1]);
      const fractions = only(firstRun, 'progress').map((m) => m.loaded / m.total);
      expect(Math.max(...fractions)).toBeGreaterThanOrEqual(0.65);

      // The network is back; the caller kept the video id. What storage holds is where the next process starts.
      await restore();
      const state = await (
        await fetch(`${server.url}/api/manage/videos/${videoId}/upload`, {
          headers: { authorization: `Bearer ${server.serviceApiKey}` },
        })
      ).json();
      expect(state).toMatchObject({ method: 'multipart', part_count: partCount, part_size: partSize });
      const storedBefore = (state.stored_parts as { part_number: number }[]).map((p) => p.part_number);
      expect(storedBefore.length).toBeGreaterThanOrEqual(Math.floor(partCount * 0.5));
      expect(storedBefore.length).toBeLessThan(partCount);

      const second = runClient({ ...client, file, ownerId: 'alice', videoId });
      children.push(second.child);
      const secondRun = await second.finished;
      const done = secondRun.at(-1);
      expect(done).toMatchObject({ type: 'done', video: { id: videoId, upload_status: 'complete' } });
      expect(only(secondRun, 'registered')).toEqual([
        { type: 'registered', video_id: videoId, resumed: true },
      ]);
      // Only the parts storage did not hold were sent, each once, each a slice of the file on disk.
      const missing = Array.from({ length: partCount }, (_, i) => i + 1).filter(
        (n) => !storedBefore.includes(n),
      );
      const sent = only(secondRun, 'put');
      expect(sent.map((m) => m.part).sort((a, b) => a - b)).toEqual(missing);
      expect(sent.every((m) => m.file_slice && m.size <= partSize)).toBe(true);
      const progress = only(secondRun, 'progress').map((m) => m.loaded);
      expect(progress[0]).toBeGreaterThanOrEqual(storedBefore.length * partSize - partSize);
      expect(progress.at(-1)).toBe(SIZE);

      // The stored object is the file, byte for byte.
      const video = (done as Extract<ClientMessage, { type: 'done' }>).video;
      expect(video['size_bytes']).toBe(SIZE);
      expect(await storedChecksum(`videos/alice/${videoId}.mp4`)).toBe(checksum);

      // Memory: each process grew by what a few parts in flight cost (with the garbage collector's slack: about
      // 110 MiB with one 16 MiB part at a time, 170 MiB with six, measured), never by the file.
      const bound = 2 * concurrencyFor(SIZE) * partSize + 96 * MiB;
      expect(
        bound,
        'LARGE_UPLOAD_BYTES is too small for the memory bound to tell streaming from reading whole',
      ).toBeLessThan(SIZE);
      for (const run of [firstRun, secondRun]) {
        const [memory] = only(run, 'memory');
        const growth = memory!.peak_rss - memory!.baseline_rss;
        expect({ growth_mib: Math.round(growth / MiB), bound_mib: bound / MiB }).toSatisfy(
          ({ growth_mib, bound_mib }: { growth_mib: number; bound_mib: number }) => growth_mib < bound_mib,
        );
      }
      console.log(
        `${variant}: ${(SIZE / MiB).toFixed(0)} MiB in ${partCount} parts of ${partSize / MiB} MiB; ` +
          `client peak RSS growth ${only(firstRun, 'memory').map((m) => Math.round((m.peak_rss - m.baseline_rss) / MiB))} / ` +
          `${only(secondRun, 'memory').map((m) => Math.round((m.peak_rss - m.baseline_rss) / MiB))} MiB`,
      );
    },
    TIMEOUT,
  );
});
