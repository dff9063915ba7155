import type { Db } from '../db/create-database.js';
import type { VideoRow } from '../db/schema.js';
import { ConflictError, ErrorCode } from '../errors/domain-error.js';
import { saveWatchSession, sessionsPerSecond, watchAggregates } from './analytics-repository.js';
import { checkWatchReport, type WatchReport } from './watch-report.js';

/** How many rewind hotspots the analytics answer lists. */
export const REWIND_HOTSPOTS = 5;

/** The analytics answer of a video (see docs/api.md). */
export interface VideoAnalytics {
  views: number;
  unique_viewers: number;
  watch_time_seconds: number;
  /** Share of sessions that reached 90 % of the video; `null` without sessions. */
  completion_rate: number | null;
  /** Share of sessions still watching each second of the video (index = second), 0–1. */
  retention: number[];
  /** The seconds most watched again, most first: `{ second, sessions }`. */
  rewind_hotspots: Array<{ second: number; sessions: number }>;
  startup_ms: { median: number | null; p95: number | null };
  /** Time spent rebuffering over time spent watching plus rebuffering; `null` without watch time. */
  rebuffer_ratio: number | null;
  /** Share of sessions that stopped on a playback error; `null` without sessions. */
  failure_rate: number | null;
}

/** What a recorded report means for the QoE histograms: set once per session, when its last report arrives. */
export interface EndedSession {
  startupMs: number | null;
  rebufferRatio: number | null;
}

/**
 * Records a viewing-session report for `video`, from the viewer named by its playback token: checked (400), then the
 * session's row is created or replaced. A session id already used for another video or viewer is a 409. Answers the
 * session's QoE figures when this report ended it.
 *
 * @example
 * await recordWatchReport(db, video, 'alice', JSON.parse(body));
 */
export async function recordWatchReport(
  db: Db,
  video: VideoRow,
  viewerId: string,
  body: unknown,
): Promise<EndedSession | undefined> {
  const report = checkWatchReport(body, video.duration_seconds);
  const saved = await saveWatchSession(db, { videoId: video.id, viewerId, report });
  if (!saved) {
    throw new ConflictError(
      ErrorCode.Conflict,
      'That session id belongs to another session; start a new one.',
    );
  }
  return saved.endedNow ? endedSession(report) : undefined;
}

function endedSession(report: WatchReport): EndedSession {
  const watchedMs = report.watched.reduce((total, [start, end]) => total + (end - start) * 1000, 0);
  const total = watchedMs + report.rebuffer_ms;
  return { startupMs: report.startup_ms, rebufferRatio: total > 0 ? report.rebuffer_ms / total : null };
}

/** The owner's view of a video's sessions: every figure computed in SQL over its rows. */
export async function videoAnalytics(db: Db, video: VideoRow): Promise<VideoAnalytics> {
  const [totals, watched, rewatched] = await Promise.all([
    watchAggregates(db, video.id),
    sessionsPerSecond(db, video.id, 'watched'),
    sessionsPerSecond(db, video.id, 'rewatched'),
  ]);
  const length = Math.max(
    Math.ceil(video.duration_seconds ?? 0),
    watched.length ? watched[watched.length - 1]![0] + 1 : 0,
  );
  const retention = new Array<number>(length).fill(0);
  for (const [second, sessions] of watched) {
    retention[second] = totals.views ? round(sessions / totals.views) : 0;
  }
  const watchedMs = totals.watch_seconds * 1000;
  return {
    views: totals.views,
    unique_viewers: totals.unique_viewers,
    watch_time_seconds: totals.watch_seconds,
    completion_rate: totals.completion_rate === null ? null : round(totals.completion_rate),
    retention,
    rewind_hotspots: [...rewatched]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, REWIND_HOTSPOTS)
      .map(([second, sessions]) => ({ second, sessions })),
    startup_ms: { median: totals.startup_ms_median, p95: totals.startup_ms_p95 },
    rebuffer_ratio:
      watchedMs + totals.rebuffer_ms > 0
        ? round(totals.rebuffer_ms / (watchedMs + totals.rebuffer_ms))
        : null,
    failure_rate: totals.views ? round(totals.failures / totals.views) : null,
  };
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
