// A video's chapters: checking a list, reading one from a WebVTT `kind=chapters` file, writing one as WebVTT.
// Pure functions, no I/O.

import { checkWebVtt, parseTimestamp, WebVttError } from '../captions/webvtt.js';
import { InvalidInputError } from '../errors/domain-error.js';

/** One chapter: where it starts (seconds from the start of the video) and what it is called. */
export interface Chapter {
  start_seconds: number;
  title: string;
}

/** Most chapters one video may have. */
export const MAX_CHAPTERS = 500;

/** Longest chapter title, in characters (Unicode code points). */
export const MAX_CHAPTER_TITLE = 200;

/** Largest chapters request body (JSON or WebVTT), in bytes: 500 titles of 200 four-byte characters fit. */
export const MAX_CHAPTERS_BYTES = 512 * 1024;

/** Control characters, DEL, C1 controls and bidirectional overrides: refused in titles. */
// eslint-disable-next-line no-control-regex
const UNSAFE_TITLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Seconds rounded to the millisecond (WebVTT's precision). */
const toMillis = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * Checks a list of chapters and returns it normalised (titles trimmed, starts rounded to the millisecond). Throws
 * `InvalidInputError` naming the first problem: more than {@link MAX_CHAPTERS}; a start that is not a finite number
 * ≥ 0 or (when `durationSeconds` is known) not before the end of the video; a first chapter not at 0; starts not
 * strictly increasing (unsorted or duplicated); a title empty, longer than {@link MAX_CHAPTER_TITLE} characters or
 * with control characters. An empty list is valid (no chapters).
 *
 * @example
 * checkChapters([{ start_seconds: 0, title: ' Intro ' }, { start_seconds: 61.5, title: 'Budget' }]);
 * // [{ start_seconds: 0, title: 'Intro' }, { start_seconds: 61.5, title: 'Budget' }]
 */
export function checkChapters(
  chapters: ReadonlyArray<{ start_seconds: unknown; title: unknown }>,
  durationSeconds?: number | null,
): Chapter[] {
  if (chapters.length > MAX_CHAPTERS) {
    throw new InvalidInputError(
      `A video may have at most ${MAX_CHAPTERS} chapters (got ${chapters.length}).`,
    );
  }
  const checked: Chapter[] = [];
  chapters.forEach((chapter, index) => {
    const at = `chapters[${index}]`;
    const start = chapter.start_seconds;
    if (typeof start !== 'number' || !Number.isFinite(start) || start < 0) {
      throw new InvalidInputError(`${at}.start_seconds must be a number of seconds ≥ 0.`);
    }
    const startSeconds = toMillis(start);
    if (index === 0 && startSeconds !== 0) {
      throw new InvalidInputError(`The first chapter must start at 0 (${at} starts at ${startSeconds}).`);
    }
    const previous = checked[index - 1];
    if (previous && startSeconds <= previous.start_seconds) {
      throw new InvalidInputError(
        `Chapters must be sorted by start with unique starts: ${at} starts at ${startSeconds}, ` +
          `not after the chapter before it (${previous.start_seconds}).`,
      );
    }
    if (durationSeconds != null && durationSeconds > 0 && startSeconds >= durationSeconds) {
      throw new InvalidInputError(
        `${at} starts at ${startSeconds}, after the video ends (${toMillis(durationSeconds)} s).`,
      );
    }
    checked.push({ start_seconds: startSeconds, title: checkTitle(chapter.title, at) });
  });
  return checked;
}

function checkTitle(value: unknown, at: string): string {
  if (typeof value !== 'string') throw new InvalidInputError(`${at}.title must be a string.`);
  const title = value.trim();
  const length = [...title].length;
  if (length === 0 || length > MAX_CHAPTER_TITLE || UNSAFE_TITLE.test(title)) {
    throw new InvalidInputError(
      `${at}.title must be 1–${MAX_CHAPTER_TITLE} characters without control characters or line breaks.`,
    );
  }
  return title;
}

/** `&amp;`, `&lt;`, `&gt;` and the other character references a WebVTT cue text may hold, decoded. */
function decodeCueText(text: string): string {
  return text
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&lrm;|&rlm;/g, '')
    .replace(/&amp;/g, '&');
}

/**
 * Reads the chapters of a WebVTT `kind=chapters` file: one cue per chapter, its start and its text as the title
 * (lines joined with a space, tags removed). The file is checked like a caption file first (a 400 naming the line),
 * then cues that overlap the one before them are refused, then the list is checked by {@link checkChapters}.
 *
 * @example
 * parseChaptersVtt(utf8('WEBVTT\n\n00:00.000 --> 01:00.000\nIntro\n\n01:00.000 --> 02:00.000\nQ&amp;A\n'));
 * // [{ start_seconds: 0, title: 'Intro' }, { start_seconds: 60, title: 'Q&A' }]
 */
export function parseChaptersVtt(bytes: Uint8Array, durationSeconds?: number | null): Chapter[] {
  let text: string;
  try {
    text = checkWebVtt(bytes).text;
  } catch (error) {
    if (error instanceof WebVttError) {
      throw new InvalidInputError(`The chapters are not valid WebVTT. ${error.message}.`);
    }
    throw error;
  }
  const cues: Array<{ start: number; end: number; title: string }> = [];
  for (const block of text.split(/\n\n+/).slice(1)) {
    const lines = block.split('\n');
    const timingIndex = lines.findIndex((line) => line.includes('-->'));
    if (timingIndex < 0 || /^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/.test(lines[0] ?? '')) continue;
    const [from = '', to = ''] = (lines[timingIndex] as string).split(/[ \t]+-->[ \t]+/);
    const start = parseTimestamp(from.trim()) as number;
    const end = parseTimestamp((to.trim().split(/[ \t]/)[0] ?? '').trim()) as number;
    const title = decodeCueText(lines.slice(timingIndex + 1).join(' '));
    const previous = cues[cues.length - 1];
    if (previous && start < previous.end) {
      throw new InvalidInputError(
        `Chapter cues must not overlap: the cue at ${from} starts before the one before it ends (${formatTimestamp(previous.end)}).`,
      );
    }
    cues.push({ start, end, title });
  }
  return checkChapters(
    cues.map((cue) => ({ start_seconds: cue.start, title: cue.title })),
    durationSeconds,
  );
}

/** `hh:mm:ss.ttt`. */
export function formatTimestamp(seconds: number): string {
  const millis = Math.max(0, Math.round(seconds * 1000));
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    `${pad(Math.floor(millis / 3_600_000))}:${pad(Math.floor(millis / 60_000) % 60)}:` +
    `${pad(Math.floor(millis / 1000) % 60)}.${pad(millis % 1000, 3)}`
  );
}

const escapeCueText = (title: string) =>
  title.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The chapters as a WebVTT `kind=chapters` track: one cue per chapter, ending where the next starts and the last at
 * the end of the video (or one second after its start when the duration is not known or not after it).
 *
 * @example
 * chaptersToVtt([{ start_seconds: 0, title: 'Intro' }, { start_seconds: 60, title: 'Q&A' }], 90);
 * // 'WEBVTT\n\n1\n00:00:00.000 --> 00:01:00.000\nIntro\n\n2\n00:01:00.000 --> 00:01:30.000\nQ&amp;A\n'
 */
export function chaptersToVtt(chapters: readonly Chapter[], durationSeconds: number | null): string {
  const cues = chapters.map((chapter, index) => {
    const next = chapters[index + 1]?.start_seconds;
    const last =
      durationSeconds !== null && durationSeconds > chapter.start_seconds
        ? durationSeconds
        : chapter.start_seconds + 1;
    const end = next ?? last;
    return `${index + 1}\n${formatTimestamp(chapter.start_seconds)} --> ${formatTimestamp(end)}\n${escapeCueText(chapter.title)}\n`;
  });
  return ['WEBVTT\n', ...cues].join('\n');
}
