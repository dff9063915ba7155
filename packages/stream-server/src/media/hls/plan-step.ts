import { mkdir } from 'node:fs/promises';
import { checkSource } from '../check-source.js';
import { choosePlan, type MediaPlan } from '../choose-plan.js';
import { HLS_PLAYLIST_NAME } from '../hls-layout.js';
import type { JobAbort } from '../job-abort.js';
import { checkMediaLimits, type MediaLimits } from '../media-limits.js';
import { readMp4Tracks } from '../mp4-tracks.js';
import {
  copyPlanFromIndex,
  samePlan,
  startOptimisticCopy,
  worthOptimisticCopy,
  type OptimisticCopy,
} from '../optimistic-copy.js';
import { probeMedia, type ProbeResult } from '../probe-media.js';
import { LaunchPriority, type ProcessLauncher } from '../process-launcher.js';
import type { MediaProcess } from '../run-ffmpeg.js';
import { indexDisagreement, unexpectedFailure } from './hls-errors.js';
import type { HlsLogger } from './hls-output.js';

export interface PlanStepOptions {
  /** What ffmpeg reads: a presigned GET URL or a path. */
  sourceUrl: string;
  /** The `Content-Type` storage declares for the source, when known; a URL's own answer takes precedence. */
  sourceContentType?: string | undefined;
  /** Where the optimistic copy makes its folder. */
  tempRoot: string;
  ffprobePath?: string | undefined;
  launcher: ProcessLauncher;
  /** Limit for the source check and ffprobe. */
  probeTimeoutMs: number;
  readTimeoutSeconds?: number | undefined;
  /** Try the copy remux before the probe has answered (decision 0010). */
  optimisticCopy: boolean;
  limits?: MediaLimits | undefined;
  job: JobAbort;
  logger: HlsLogger;
  /** Starts ffmpeg for `plan` writing into `dir` (the optimistic copy is started with it). */
  startCopy(plan: MediaPlan, dir: string, signal: AbortSignal): MediaProcess;
  /** Folders removed when the generation ends, whatever happens; the step adds the ones it makes. */
  workDirs: string[];
}

/** What ffmpeg does for this source, and what is already running for it. */
export interface ChosenPlan {
  plan: MediaPlan;
  /** Who vouched for the plan: the MP4's own index (ffprobe checks it later) or ffprobe. */
  planFrom: 'mp4 index' | 'ffprobe';
  /** The probe once it has answered: at once for `ffprobe`, after {@link ChosenPlan.startProbe} otherwise. */
  readonly probe: ProbeResult | undefined;
  /** The optimistic copy, already writing segments for this plan into `dir`, when it was kept. */
  adopted: { process: MediaProcess; dir: string } | undefined;
  /** Starts the probe the index let wait; does nothing the second time or when the plan came from ffprobe. */
  startProbe(): void;
  /** Settles once that probe has answered and agreed with the plan; never rejects (a failure fails the job). */
  probeChecked(): Promise<void>;
}

/**
 * The plan step: checks the source, then chooses what ffmpeg does with it. For the MP4 family a copy remux starts
 * at once (the optimistic copy) and the track headers of the MP4's own index are read: when they vouch for the
 * copy plan, ffprobe is left for later and only checks that verdict (decision 0010). Otherwise ffprobe answers
 * first, the media limits are checked and the plan is chosen from the probe. A copy that does not fit the plan is
 * stopped; on any failure it is stopped too before the error is thrown.
 *
 * @example
 * const chosen = await chooseHlsPlan({ sourceUrl, tempRoot, launcher, probeTimeoutMs: 60_000, optimisticCopy: true,
 *   job, logger, startCopy, workDirs });
 * chosen.plan.mode; // 'copy'
 */
export async function chooseHlsPlan(options: PlanStepOptions): Promise<ChosenPlan> {
  const { job, logger } = options;
  let optimistic: OptimisticCopy | undefined;
  try {
    job.throwIfFailed();
    const source = await checkSource(options.sourceUrl, {
      timeoutMs: options.probeTimeoutMs,
      signal: job.signal,
    });
    if (source.rangeSupported === false) {
      logger.warn(
        { sizeBytes: source.sizeBytes },
        'hls generation: the source ignores Range; an MP4 with its index at the end will fail',
      );
    }
    job.throwIfFailed();
    await mkdir(options.tempRoot, { recursive: true });
    const contentType = source.contentType ?? options.sourceContentType;
    if (options.optimisticCopy && worthOptimisticCopy(contentType)) {
      optimistic = await startOptimisticCopy({
        tempRoot: options.tempRoot,
        signal: job.signal,
        start: options.startCopy,
        playlistName: HLS_PLAYLIST_NAME,
      });
      options.workDirs.push(optimistic.dir);
    }
    const runProbe = (priority: LaunchPriority) =>
      probeMedia(options.sourceUrl, {
        priority,
        ffprobePath: options.ffprobePath,
        launcher: options.launcher,
        timeoutMs: options.probeTimeoutMs,
        signal: job.signal,
        readTimeoutSeconds: options.readTimeoutSeconds,
      });
    // For the MP4 family, the track headers of the source's own index are read first (a few ms, whatever the
    // length): when they vouch for the copy plan, ffprobe is not needed before the first segment.
    const indexPlan =
      optimistic === undefined
        ? undefined
        : copyPlanFromIndex(await readMp4Tracks(options.sourceUrl, { signal: job.signal }), options.limits);
    job.throwIfFailed();

    const chosen = indexPlan
      ? deferredProbe(indexPlan, runProbe, options)
      : await probedPlan(runProbe, options);
    // Usually the plan the optimistic copy runs, which is then adopted; otherwise (audio first, one track only)
    // a copy with the right streams starts instead.
    const adopted = await optimistic?.adopt(chosen.plan);
    const optimisticOutcome = optimistic ? (adopted ? 'adopted' : 'discarded') : 'not tried';
    optimistic = undefined;
    logger.info(
      {
        plan: chosen.plan,
        planFrom: chosen.planFrom,
        ...(chosen.probe ? { probe: chosen.probe } : {}),
        optimisticCopy: optimisticOutcome,
      },
      'hls generation: plan chosen',
    );
    return Object.assign(chosen, { adopted });
  } catch (error) {
    job.fail(unexpectedFailure(error));
    await optimistic?.discard();
    throw error;
  }
}

/** The plan ffprobe chose, after the media limits are checked. */
async function probedPlan(
  runProbe: (priority: LaunchPriority) => Promise<ProbeResult>,
  options: PlanStepOptions,
): Promise<Omit<ChosenPlan, 'adopted'>> {
  const probe = await runProbe(LaunchPriority.FirstView);
  options.job.throwIfFailed();
  checkMediaLimits(probe, options.limits);
  return {
    plan: choosePlan(probe),
    planFrom: 'ffprobe',
    probe,
    startProbe: () => {},
    probeChecked: () => Promise.resolve(),
  };
}

/**
 * The plan the MP4 index vouched for; ffprobe starts later (a while after the first segment is stored, or when
 * its answer is needed at the end), so that neither its start nor its read of the index competes with the first
 * segment and the viewer's first requests. It then checks the index's verdict: a disagreement fails the job.
 */
function deferredProbe(
  plan: MediaPlan,
  runProbe: (priority: LaunchPriority) => Promise<ProbeResult>,
  options: PlanStepOptions,
): Omit<ChosenPlan, 'adopted'> {
  let probe: ProbeResult | undefined;
  let checked: Promise<void> | undefined;
  return {
    plan,
    planFrom: 'mp4 index',
    get probe() {
      return probe;
    },
    startProbe() {
      // Its answer is needed only at the end: it waits behind the first segments of other videos.
      checked ??= runProbe(LaunchPriority.Generation)
        .then((result) => {
          probe = result;
          checkMediaLimits(result, options.limits);
          const fromProbe = choosePlan(result);
          options.logger.info({ plan: fromProbe, probe: result }, 'hls generation: probed source');
          if (!samePlan(fromProbe, plan)) throw indexDisagreement(fromProbe);
        })
        .catch((error: unknown) => options.job.fail(unexpectedFailure(error)));
    },
    probeChecked: () => checked ?? Promise.resolve(),
  };
}
