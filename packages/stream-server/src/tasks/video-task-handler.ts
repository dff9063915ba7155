import type { Config } from '../config/load-config.js';
import type { Db } from '../db/create-database.js';
import { TaskKind } from '../db/schema.js';
import { backoffSeconds } from '../jobs/backoff.js';
import type { JobContext, JobHandler, JobSource } from '../jobs/job-runner.js';
import { MediaError } from '../media/media-error.js';
import type { ProcessLauncher } from '../media/process-launcher.js';
import type { Metrics } from '../observability/metrics.js';
import type { Storage } from '../storage/storage.js';
import { createWebhookEvents, type WebhookEvents } from '../webhooks/events/publish-event.js';
import { runVideoTask } from './run-video-task.js';
import {
  claimNextTask,
  failTask,
  releaseTask,
  renewTaskLease,
  type ClaimedTask,
} from './video-tasks-repository.js';

export interface VideoTaskJobsDeps {
  db: Db;
  storage: Storage;
  config: Pick<Config, 'worker' | 'media'>;
  /** This process's temp folder (see jobs/temp-folders.ts). */
  tempRoot: string;
  /** Starts every ffmpeg and ffprobe of these jobs: the one launcher the server made for its worker. */
  launcher: ProcessLauncher;
  metrics?: Metrics | undefined;
  /** Queues `video.rendition.ready` with each finished rung; default: registered endpoints only. */
  events?: WebhookEvents | undefined;
}

/**
 * The after-ready tasks (poster and storyboard, lower renditions) as job kinds of the job runner: one source, the
 * `video_tasks` table with slots of its own (`WORKER_TASK_CONCURRENCY`, so a first view never waits behind a
 * rendition), and a handler per kind. Leased and retried like generation jobs (docs/decisions/0009-work-after-ready.md).
 */
export function createVideoTaskJobs(deps: VideoTaskJobsDeps): {
  source: JobSource<ClaimedTask>;
  handlers: Record<TaskKind, JobHandler<ClaimedTask>>;
} {
  const { config } = deps;
  const events = deps.events ?? createWebhookEvents();
  const source: JobSource<ClaimedTask> = {
    what: 'video task',
    slots: config.worker.taskConcurrency,
    leaseSeconds: config.worker.leaseSeconds,
    claim: (workerId, leaseSeconds) => claimNextTask(deps.db, workerId, leaseSeconds),
    renew: (claim, leaseSeconds) => renewTaskLease(deps.db, claim, leaseSeconds),
    release: (claim) => releaseTask(deps.db, claim, 0),
    kindOf: (claim) => claim.task.kind,
  };

  const run = async (claim: ClaimedTask, { signal, log }: JobContext) => {
    const started = performance.now();
    const outcome = await runVideoTask(claim, {
      db: deps.db,
      storage: deps.storage,
      config,
      tempRoot: deps.tempRoot,
      launcher: deps.launcher,
      events,
      signal,
      log,
    });
    log.info({ outcome, ms: Math.round(performance.now() - started) }, 'video task finished');
    deps.metrics?.videoTasks.inc({ kind: claim.task.kind, outcome });
  };

  const onFailure = async (claim: ClaimedTask, error: unknown, { log }: JobContext) => {
    const { task } = claim;
    const message = error instanceof Error ? error.message : String(error);
    const permanent = error instanceof MediaError && error.permanent;
    if (permanent || task.attempts >= config.worker.maxAttempts) {
      log.error({ err: error }, 'video task failed; the video plays on without it');
      deps.metrics?.videoTasks.inc({ kind: task.kind, outcome: 'failed' });
      await failTask(deps.db, claim, message).catch(() => {});
    } else {
      const delay = backoffSeconds(task.attempts);
      log.warn({ err: error, retryInSeconds: delay }, 'video task failed; it will be retried');
      deps.metrics?.videoTasks.inc({ kind: task.kind, outcome: 'retried' });
      await releaseTask(deps.db, claim, delay, message).catch(() => {});
    }
  };

  const handler: JobHandler<ClaimedTask> = {
    describe: ({ task }) => ({
      videoId: task.video_id,
      taskId: task.id,
      task: task.kind,
      attempt: task.attempts,
    }),
    run,
    onFailure,
    onLeaseLost: (_claim, log) =>
      log.warn('video task stopped: its lease was lost, or its video was deleted or regenerated'),
  };
  // One handler for both kinds: runVideoTask picks the work by kind (thumbnails, rendition).
  return { source, handlers: { [TaskKind.Thumbnails]: handler, [TaskKind.Rendition]: handler } };
}
