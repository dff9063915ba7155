import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HlsSegment } from '../../../src/media/hls-playlist.js';
import { createJobAbort } from '../../../src/media/job-abort.js';
import { uploadSegments } from '../../../src/media/hls/segment-uploads.js';
import type { SegmentStored } from '../../../src/media/hls/hls-output.js';
import { DirectorySink, failureOf } from '../../helpers/media.js';
import { waitFor } from '../../helpers/processes.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const PREFIX = 'videos/u/v_hls/';
const silent = { info() {}, warn() {}, error() {} };

/** A deferred per upload, so that a test decides when (and in which order) each one finishes. */
function heldUploads() {
  const waiting = new Map<string, () => void>();
  return {
    beforePutFile: (key: string) => new Promise<void>((resolve) => waiting.set(key, resolve)),
    /** Lets segment `index`'s upload finish, once it has started. */
    async release(index: number) {
      const key = `${PREFIX}segment${index}.ts`;
      const resolve = await waitFor(`the upload of segment ${index}`, async () => waiting.get(key));
      waiting.delete(key);
      resolve();
    },
    held: () => [...waiting.keys()].sort(),
  };
}

async function setUp(count: number, sinkOptions: ConstructorParameters<typeof DirectorySink>[1] = {}) {
  const root = await mkdtemp(join(tmpdir(), 'segment-uploads-'));
  dirs.push(root);
  const dir = join(root, 'work');
  const segments: HlsSegment[] = [];
  await rm(dir, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(dir));
  for (let i = 0; i < count; i += 1) {
    await writeFile(join(dir, `segment${i}.ts`), Buffer.alloc(1000 * (i + 1)));
    segments.push({ uri: `segment${i}.ts`, durationSeconds: 2 });
  }
  const writer = { pauses: 0, resumes: 0, pause: () => true, resume: () => true };
  writer.pause = () => ((writer.pauses += 1), true);
  writer.resume = () => ((writer.resumes += 1), true);
  const sink = new DirectorySink(join(root, 'bucket'), sinkOptions);
  return { dir, segments, writer, sink };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('uploadSegments (the upload step)', () => {
  it('stores every segment, deletes its file and announces them in index order whatever order uploads end in', async () => {
    const hold = heldUploads();
    const { dir, segments, writer, sink } = await setUp(3, { beforePutFile: hold.beforePutFile });
    const job = createJobAbort(undefined);
    const announced: SegmentStored[] = [];
    const uploads = uploadSegments({
      dir,
      outputPrefix: PREFIX,
      sink,
      writer,
      concurrency: 3,
      maxPending: 10,
      segmentSeconds: 2,
      job,
      logger: silent,
      onSegmentStored: (event) => void announced.push(event),
    });
    uploads.add(segments);
    await waitFor('three uploads', async () => (hold.held().length === 3 ? true : undefined));
    await hold.release(2);
    await hold.release(1);
    await tick();
    expect(announced).toEqual([]); // segment 0 is not stored yet: nothing may be listed
    await hold.release(0);
    await uploads.drain();
    await uploads.notified();

    expect(announced.map((event) => event.index)).toEqual([0, 1, 2]);
    expect(announced[1]?.playlistSoFar).toContain('segment1.ts');
    expect(announced[1]?.playlistSoFar).not.toContain('segment2.ts');
    expect(uploads.storedRun).toBe(3);
    expect(uploads.sizes).toEqual([1000, 2000, 3000]);
    expect(await readdir(dir)).toEqual([]);
    expect(await sink.keys()).toEqual([0, 1, 2].map((i) => `${PREFIX}segment${i}.ts`));
  });

  it('pauses the writer when too many segments wait and resumes it once half of them are stored', async () => {
    const hold = heldUploads();
    const { dir, segments, writer, sink } = await setUp(4, { beforePutFile: hold.beforePutFile });
    const uploads = uploadSegments({
      dir,
      outputPrefix: PREFIX,
      sink,
      writer,
      concurrency: 1,
      maxPending: 4,
      segmentSeconds: 2,
      job: createJobAbort(undefined),
      logger: silent,
    });
    uploads.add(segments.slice(0, 3));
    expect(writer.pauses).toBe(0);
    uploads.add(segments.slice(3));
    expect(writer.pauses).toBe(1);
    await hold.release(0);
    await waitFor('the next upload', async () => (hold.held().length === 1 ? true : undefined));
    expect(writer.resumes).toBe(0); // 3 still wait
    await hold.release(1);
    await waitFor('the writer to resume', async () => (writer.resumes === 1 ? true : undefined)); // 2 wait: half
    await hold.release(2);
    await hold.release(3);
    await uploads.drain();
    expect(writer.pauses).toBe(1);
  });

  it('fails the job with a transient storage error when an upload fails', async () => {
    const { dir, segments, writer, sink } = await setUp(2, { failOnPutFile: 2 });
    const job = createJobAbort(undefined);
    const uploads = uploadSegments({
      dir,
      outputPrefix: PREFIX,
      sink,
      writer,
      concurrency: 1,
      maxPending: 4,
      segmentSeconds: 2,
      job,
      logger: silent,
    });
    uploads.add(segments);
    const error = await failureOf(uploads.drain());
    expect(error).toMatchObject({ code: 'storage', permanent: false });
    expect(job.signal.aborted).toBe(true);
    await uploads.settle();
    expect(uploads.storedRun).toBe(1);
  });
});
