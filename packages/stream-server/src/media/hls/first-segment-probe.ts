import { link, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { probeMedia, type ProbeResult } from '../probe-media.js';
import { LaunchPriority, type ProcessLauncher } from '../process-launcher.js';
import type { HlsLogger } from './hls-output.js';

/** Name of the hard link to the first segment that is probed while the segment is uploaded. */
const FIRST_SEGMENT_PROBE_FILE = 'first-segment-probe.ts';

export interface FirstSegmentProbeOptions {
  /** The folder the segments are written into (the link is made there). */
  dir: string;
  ffprobePath?: string | undefined;
  launcher: ProcessLauncher;
  timeoutMs: number;
  signal: AbortSignal;
  logger: HlsLogger;
}

/** The probe of the first produced segment, for the codec profile and level x264 chose. */
export interface FirstSegmentProbe {
  /** Keeps `file` (the first segment, about to be uploaded and deleted) by a hard link and probes the link. */
  keep(file: string): Promise<void>;
  /** The probe's answer; `undefined` when nothing was kept or the probe failed (logged). Never rejects. */
  result(): Promise<ProbeResult | undefined>;
}

/**
 * Probes a hard link of the first transcoded segment, to learn the profile and level x264 chose, while the
 * segment itself is uploaded and deleted. The link is removed once probed.
 *
 * @example
 * const firstSegment = probeFirstSegment({ dir, launcher, timeoutMs: 60_000, signal, logger });
 * await firstSegment.keep(join(dir, 'segment0.ts'));
 * (await firstSegment.result())?.video?.profile; // 'High'
 */
export function probeFirstSegment(options: FirstSegmentProbeOptions): FirstSegmentProbe {
  let probing: Promise<ProbeResult | undefined> | undefined;
  const probeLink = async (copy: string): Promise<ProbeResult | undefined> => {
    try {
      return await probeMedia(copy, {
        ffprobePath: options.ffprobePath,
        launcher: options.launcher,
        priority: LaunchPriority.Generation,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
    } catch (error) {
      if (!options.signal.aborted)
        options.logger.warn({ err: error }, 'hls generation: could not probe the first segment');
      return undefined;
    } finally {
      await rm(copy, { force: true });
    }
  };
  return {
    async keep(file) {
      const copy = join(options.dir, FIRST_SEGMENT_PROBE_FILE);
      try {
        await link(file, copy);
        probing = probeLink(copy);
      } catch (error) {
        options.logger.warn({ err: error }, 'hls generation: could not keep the first segment for probing');
      }
    },
    result: async () => probing,
  };
}
