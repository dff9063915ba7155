// Checking a viewing-session report from the player. Pure functions, no I/O.

import { InvalidInputError } from '../errors/domain-error.js';

/** Largest report body, in bytes: a session's ranges are compact, so a bigger one is not from our player. */
export const MAX_REPORT_BYTES = 32 * 1024;

/** Most ranges in `watched` or `rewatched`. */
export const MAX_RANGES = 1000;

/** Longest video a report may describe, in seconds (a day). */
const MAX_SECONDS = 24 * 3600;

/** What the player reports about one viewing session (the whole session so far: each report replaces the last). */
export interface WatchReport {
  session_id: string;
  /** First `/stream` request → first frame, in ms; `null` before the first frame. */
  startup_ms: number | null;
  rebuffer_count: number;
  rebuffer_ms: number;
  /** The player's error code when playback stopped on one (`playback_network`, `media_decode`, …). */
  error_code: string | null;
  /** Seconds watched at least once, as sorted disjoint `[start, end)` ranges of whole seconds. */
  watched: Array<[number, number]>;
  /** Seconds watched more than once (rewinds), the same way. */
  rewatched: Array<[number, number]>;
  rendition_switches: number;
  /** Playback reached 90 % of the video. */
  reached_90: boolean;
  /** The last report of the session (sent when the page is hidden or closed). */
  final: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ERROR_CODE = /^[a-z][a-z0-9_]{0,63}$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function count(value: unknown, name: string, max: number): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidInputError(`${name} must be a whole number from 0 to ${max}.`);
  }
  return value;
}

function ranges(value: unknown, name: string, limit: number): Array<[number, number]> {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_RANGES) {
    throw new InvalidInputError(`${name} must be a list of at most ${MAX_RANGES} [start, end] ranges.`);
  }
  let previousEnd = -1;
  return value.map((range, index) => {
    const [start, end] = Array.isArray(range) && range.length === 2 ? range : [];
    const whole = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n);
    if (!whole(start) || !whole(end) || start < 0 || end <= start || end > limit) {
      throw new InvalidInputError(
        `${name}[${index}] must be [start, end] in whole seconds with 0 ≤ start < end ≤ ${limit}.`,
      );
    }
    if (start < previousEnd) {
      throw new InvalidInputError(
        `${name} ranges must be sorted and must not overlap (at ${name}[${index}]).`,
      );
    }
    previousEnd = end;
    return [start, end];
  });
}

/** Seconds covered by sorted disjoint ranges. */
export const coveredSeconds = (list: ReadonlyArray<[number, number]>) =>
  list.reduce((total, [start, end]) => total + end - start, 0);

/**
 * Checks a report against its video: 400 naming the first problem. Ranges must lie within the video (its duration
 * rounded up, when known) and `rewatched` within `watched`'s span.
 *
 * @example
 * checkWatchReport({ session_id: crypto.randomUUID(), watched: [[0, 5]], rewatched: [[0, 3]] }, 8);
 */
export function checkWatchReport(body: unknown, durationSeconds: number | null): WatchReport {
  if (!isRecord(body)) throw new InvalidInputError('The report must be a JSON object.');
  const sessionId = body['session_id'];
  if (typeof sessionId !== 'string' || !UUID.test(sessionId)) {
    throw new InvalidInputError('session_id must be a lowercase UUID made by the player for this session.');
  }
  const limit = durationSeconds && durationSeconds > 0 ? Math.ceil(durationSeconds) : MAX_SECONDS;
  const startup = body['startup_ms'];
  if (
    startup !== undefined &&
    startup !== null &&
    (typeof startup !== 'number' || !(startup >= 0) || startup > 3_600_000)
  ) {
    throw new InvalidInputError('startup_ms must be null or a number of milliseconds from 0 to 3600000.');
  }
  const errorCode = body['error_code'];
  if (
    errorCode !== undefined &&
    errorCode !== null &&
    (typeof errorCode !== 'string' || !ERROR_CODE.test(errorCode))
  ) {
    throw new InvalidInputError('error_code must be null or a snake_case code.');
  }
  for (const flag of ['reached_90', 'final']) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') {
      throw new InvalidInputError(`${flag} must be true or false.`);
    }
  }
  return {
    session_id: sessionId,
    startup_ms: typeof startup === 'number' ? Math.round(startup) : null,
    rebuffer_count: count(body['rebuffer_count'], 'rebuffer_count', 100_000),
    rebuffer_ms: count(
      typeof body['rebuffer_ms'] === 'number' ? Math.round(body['rebuffer_ms']) : body['rebuffer_ms'],
      'rebuffer_ms',
      MAX_SECONDS * 1000,
    ),
    error_code: typeof errorCode === 'string' ? errorCode : null,
    watched: ranges(body['watched'], 'watched', limit),
    rewatched: ranges(body['rewatched'], 'rewatched', limit),
    rendition_switches: count(body['rendition_switches'], 'rendition_switches', 100_000),
    reached_90: body['reached_90'] === true,
    final: body['final'] === true,
  };
}
