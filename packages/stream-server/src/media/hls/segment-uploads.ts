import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { segmentFileName } from '../hls-layout.js';
import { buildHlsPlaylist, type HlsSegment } from '../hls-playlist.js';
import type { JobAbort } from '../job-abort.js';
import { MediaError } from '../media-error.js';
import { storageFailure, unexpectedFailure } from './hls-errors.js';
import { SEGMENT_CONTENT_TYPE, type HlsLogger, type HlsSink, type SegmentStored } from './hls-output.js';

/** What the upload step may do to the process writing the segments: stop it while the bucket is behind. */
export interface PausableProcess {
  /** SIGSTOP; false when that was not possible (exited). */
  pause(): boolean;
  resume(): boolean;
}

export interface SegmentUploadsOptions {
  /** The folder ffmpeg writes into; each segment file is deleted once stored. */
  dir: string;
  /** Storage prefix of the output, ending in `/`. */
  outputPrefix: string;
  sink: Pick<HlsSink, 'putFile'>;
  /** The process writing the segments, paused while too many wait (backpressure). */
  writer: PausableProcess;
  /** Uploads in flight at once. */
  concurrency: number;
  /** Listed segments waiting for upload before `writer` is paused until half of them are stored. */
  maxPending: number;
  /** The target duration the progressive playlist declares at least. */
  segmentSeconds: number;
  job: JobAbort;
  logger: HlsLogger;
  /** Awaited before a segment's upload starts (the first transcoded segment is kept for a probe). */
  beforeUpload?(index: number, file: string): Promise<void>;
  /**
   * Called in index order once a segment and all before it are stored, with the EVENT playlist up to it. Awaited
   * one after another; an error here is logged, not fatal.
   */
  onSegmentStored?(segment: SegmentStored): void | Promise<void>;
  /** Called in index order as each segment joins the stored run (before `onSegmentStored` is awaited). */
  onStoredRun?(index: number, storedSeconds: number): void;
}

/** The upload step while it runs. */
export interface SegmentUploads {
  /** Queues newly listed segments (in order, the next positions) and starts uploads. */
  add(segments: readonly HlsSegment[]): void;
  /** Uploads what is left; resolves once every added segment is stored, throws the job's failure. */
  drain(): Promise<void>;
  /** Waits for uploads and notifications under way to settle (on the way out after a failure). */
  settle(): Promise<void>;
  /** Waits until every `onSegmentStored` call so far has finished. */
  notified(): Promise<void>;
  /** Segments stored in a row from the first one. */
  readonly storedRun: number;
  /** Stored size of each segment in bytes, index = position. */
  readonly sizes: readonly number[];
}

/**
 * The upload step: stores each listed segment (at most `concurrency` at once) and deletes its file, pauses the
 * writing process while more than `maxPending` wait so that temp space stays at a few segments when the bucket is
 * slower than ffmpeg, and announces the segments in index order as the run stored from the first grows. A failed
 * upload fails the job (transient unless the storage says otherwise).
 *
 * @example
 * const uploads = uploadSegments({ dir, outputPrefix, sink, writer: ffmpeg, concurrency: 4, maxPending: 8,
 *   segmentSeconds: 6, job, logger, onSegmentStored: ({ playlistSoFar }) => publish(playlistSoFar) });
 * uploads.add(listed);
 * await uploads.drain();
 */
export function uploadSegments(options: SegmentUploadsOptions): SegmentUploads {
  const { job } = options;
  const segments: HlsSegment[] = [];
  const stored: boolean[] = [];
  const sizes: number[] = [];
  const queue: number[] = [];
  const inflight = new Set<Promise<void>>();
  let notifications: Promise<void> = Promise.resolve();
  let uploading = 0;
  let uploadedCount = 0;
  let announced = 0;
  let storedSeconds = 0;
  let paused = false;

  const updateBackpressure = () => {
    const pending = segments.length - uploadedCount;
    if (!paused && pending >= options.maxPending && !job.signal.aborted) {
      paused = options.writer.pause();
    } else if (paused && pending <= Math.floor(options.maxPending / 2)) {
      options.writer.resume();
      paused = false;
    }
  };

  const announce = () => {
    while (!job.signal.aborted && announced < segments.length && stored[announced]) {
      const index = announced;
      const segment = segments[index] as HlsSegment;
      announced += 1;
      storedSeconds += segment.durationSeconds;
      const onSegmentStored = options.onSegmentStored;
      if (onSegmentStored) {
        const event: SegmentStored = {
          index,
          uri: segment.uri,
          durationSeconds: segment.durationSeconds,
          playlistSoFar: buildHlsPlaylist({
            type: 'event',
            segments: segments.slice(0, index + 1),
            minTargetDurationSeconds: options.segmentSeconds,
          }),
        };
        notifications = notifications
          .then(() => onSegmentStored(event))
          .catch((error: unknown) =>
            options.logger.warn({ err: error, index }, 'hls generation: onSegmentStored failed'),
          );
      }
      options.onStoredRun?.(index, storedSeconds);
    }
  };

  const uploadSegment = async (index: number): Promise<void> => {
    const file = join(options.dir, segmentFileName(index));
    const { size } = await stat(file);
    await options.beforeUpload?.(index, file);
    try {
      await options.sink.putFile(options.outputPrefix + segmentFileName(index), file, {
        contentType: SEGMENT_CONTENT_TYPE,
        finalFile: true,
        signal: job.signal,
      });
    } catch (error) {
      throw job.signal.aborted && job.firstError ? job.firstError : storageFailure(error);
    }
    sizes[index] = size;
    await unlink(file);
  };

  const pump = () => {
    while (!job.signal.aborted && uploading < options.concurrency && queue.length > 0) {
      const index = queue.shift() as number;
      uploading += 1;
      const upload: Promise<void> = uploadSegment(index)
        .then(() => {
          uploadedCount += 1;
          stored[index] = true;
          announce();
        })
        .catch((error: unknown) => job.fail(error instanceof MediaError ? error : unexpectedFailure(error)))
        .finally(() => {
          uploading -= 1;
          inflight.delete(upload);
          updateBackpressure();
          pump();
        });
      inflight.add(upload);
    }
  };

  return {
    add(listed) {
      for (const segment of listed) {
        queue.push(segments.length);
        segments.push(segment);
      }
      updateBackpressure();
      pump();
    },
    async drain() {
      while (queue.length > 0 || inflight.size > 0) {
        job.throwIfFailed();
        if (inflight.size === 0) pump();
        if (inflight.size === 0) throw unexpectedFailure(new Error('segment uploads did not start'));
        await Promise.race(inflight);
      }
      job.throwIfFailed();
    },
    async settle() {
      await Promise.allSettled([...inflight]);
      await notifications;
    },
    notified: () => notifications,
    get storedRun() {
      return announced;
    },
    sizes,
  };
}
