import { sql } from 'kysely';

import type { Db } from '../db/create-database.js';
import { coveredSeconds, type WatchReport } from './watch-report.js';

// Data access for the watch_sessions table. Plain functions taking `db` first; every aggregate is computed in SQL.

/**
 * Creates or replaces a session's row with `report`. A session id already used for another video or viewer is left
 * alone (`undefined`). Answers whether this report ended the session for the first time (for the QoE histograms).
 */
export async function saveWatchSession(
  db: Db,
  input: { videoId: string; viewerId: string; report: WatchReport },
): Promise<{ endedNow: boolean } | undefined> {
  const { report } = input;
  const values = {
    id: report.session_id,
    video_id: input.videoId,
    viewer_id: input.viewerId,
    startup_ms: report.startup_ms,
    rebuffer_count: report.rebuffer_count,
    rebuffer_ms: report.rebuffer_ms,
    error_code: report.error_code,
    watched: JSON.stringify(report.watched),
    rewatched: JSON.stringify(report.rewatched),
    watched_seconds: coveredSeconds(report.watched),
    rewatched_seconds: coveredSeconds(report.rewatched),
    rendition_switches: report.rendition_switches,
    reached_90: report.reached_90,
    ended: report.final,
  };
  const result = await sql<{ was_ended: boolean | null }>`
    with old as (select ended from watch_sessions where id = ${values.id})
    insert into watch_sessions (id, video_id, viewer_id, startup_ms, rebuffer_count, rebuffer_ms, error_code,
      watched, rewatched, watched_seconds, rewatched_seconds, rendition_switches, reached_90, ended)
    values (${values.id}, ${values.video_id}, ${values.viewer_id}, ${values.startup_ms}, ${values.rebuffer_count},
      ${values.rebuffer_ms}, ${values.error_code}, ${values.watched}::jsonb, ${values.rewatched}::jsonb,
      ${values.watched_seconds}, ${values.rewatched_seconds}, ${values.rendition_switches}, ${values.reached_90},
      ${values.ended})
    on conflict (id) do update set
      startup_ms = coalesce(excluded.startup_ms, watch_sessions.startup_ms),
      rebuffer_count = excluded.rebuffer_count, rebuffer_ms = excluded.rebuffer_ms,
      error_code = coalesce(excluded.error_code, watch_sessions.error_code),
      watched = excluded.watched, rewatched = excluded.rewatched,
      watched_seconds = excluded.watched_seconds, rewatched_seconds = excluded.rewatched_seconds,
      rendition_switches = excluded.rendition_switches,
      reached_90 = watch_sessions.reached_90 or excluded.reached_90,
      ended = watch_sessions.ended or excluded.ended, updated_at = now()
    where watch_sessions.video_id = excluded.video_id and watch_sessions.viewer_id = excluded.viewer_id
    returning (select ended from old) as was_ended`.execute(db);
  const row = result.rows[0];
  return row ? { endedNow: report.final && row.was_ended !== true } : undefined;
}

/** The aggregates of a video's sessions (see docs/api.md). */
export interface WatchAggregates {
  views: number;
  unique_viewers: number;
  watch_seconds: number;
  completion_rate: number | null;
  startup_ms_median: number | null;
  startup_ms_p95: number | null;
  rebuffer_ms: number;
  failures: number;
  rewatched_seconds: number;
}

/** Views, viewers, watch time, completion, startup percentiles, rebuffering and failures of a video, in one query. */
export async function watchAggregates(db: Db, videoId: string): Promise<WatchAggregates> {
  const result = await sql<Record<keyof WatchAggregates, string | number | null>>`
    select count(*) as views,
      count(distinct viewer_id) as unique_viewers,
      coalesce(sum(watched_seconds), 0) as watch_seconds,
      avg(case when reached_90 then 1.0 else 0.0 end) as completion_rate,
      percentile_cont(0.5) within group (order by startup_ms) as startup_ms_median,
      percentile_cont(0.95) within group (order by startup_ms) as startup_ms_p95,
      coalesce(sum(rebuffer_ms), 0) as rebuffer_ms,
      count(*) filter (where error_code is not null) as failures,
      coalesce(sum(rewatched_seconds), 0) as rewatched_seconds
    from watch_sessions where video_id = ${videoId}`.execute(db);
  const row = result.rows[0]!;
  const num = (value: string | number | null) => (value === null ? null : Number(value));
  return {
    views: Number(row.views),
    unique_viewers: Number(row.unique_viewers),
    watch_seconds: Number(row.watch_seconds),
    completion_rate: num(row.completion_rate),
    startup_ms_median: num(row.startup_ms_median),
    startup_ms_p95: num(row.startup_ms_p95),
    rebuffer_ms: Number(row.rebuffer_ms),
    failures: Number(row.failures),
    rewatched_seconds: Number(row.rewatched_seconds),
  };
}

/**
 * Sessions per second of the video for one of the range columns (`watched`: the retention curve; `rewatched`: where
 * viewers went back), as `[second, sessions]` for every second some session covered, ascending.
 */
export async function sessionsPerSecond(
  db: Db,
  videoId: string,
  column: 'watched' | 'rewatched',
): Promise<Array<[number, number]>> {
  const result = await sql<{ second: number; sessions: string | number }>`
    select s as second, count(distinct ws.id) as sessions
    from watch_sessions ws
    cross join lateral jsonb_array_elements(ws.${sql.ref(column)}) as r(range)
    cross join lateral generate_series((r.range->>0)::int, (r.range->>1)::int - 1) as s
    where ws.video_id = ${videoId}
    group by s order by s`.execute(db);
  return result.rows.map((row) => [Number(row.second), Number(row.sessions)]);
}
