// Checking and normalising uploaded WebVTT caption files. Pure functions, no I/O.

/** Largest caption file accepted, in bytes (an hour of dense subtitles is ~100 KB). */
export const MAX_CAPTION_BYTES = 1024 * 1024;

/** A caption file that is not valid WebVTT; `line` is 1-based, counted in the file as uploaded. */
export class WebVttError extends Error {
  override readonly name = 'WebVttError';
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`Line ${line}: ${problem}`);
  }
}

/** A checked caption file. */
export interface CheckedWebVtt {
  /** The file as it is stored: no BOM, LF line ends, no `X-TIMESTAMP-MAP` header, one final newline. */
  text: string;
  cueCount: number;
}

const SIGNATURE = /^WEBVTT(?:[ \t].*)?$/;
const TIMING = /^(\S+)[ \t]+-->[ \t]+(\S+)(?:[ \t]+.*)?$/;
/** `hh:mm:ss.ttt` (hours: one or more digits, as browsers parse them) or `mm:ss.ttt`. */
const TIMESTAMP = /^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$/;
const TIMESTAMP_MAP = /^X-TIMESTAMP-MAP=/;

/**
 * Seconds of a WebVTT timestamp, or `undefined` when it is not one.
 *
 * @example
 * parseTimestamp('01:02:03.450'); // 3723.45
 * parseTimestamp('02:03.450');    // 123.45
 * parseTimestamp('00:00:01,000'); // undefined (a SubRip comma)
 */
export function parseTimestamp(value: string): number | undefined {
  const match = TIMESTAMP.exec(value);
  if (!match) return undefined;
  const [, hours = '0', minutes = '0', seconds = '0', millis = '0'] = match;
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds) + Number(millis) / 1000;
}

/** Why `value` is not a timestamp, for people. */
function timestampProblem(value: string): string {
  if (/^(?:\d+:)?\d{2}:\d{2},\d{3}$/.test(value)) {
    return `"${value}" is not a WebVTT timestamp: use a dot before the milliseconds (SubRip uses a comma)`;
  }
  return `"${value}" is not a WebVTT timestamp (hh:mm:ss.ttt or mm:ss.ttt, minutes and seconds 00–59)`;
}

/**
 * Decodes UTF-8 strictly. Throws {@link WebVttError} naming the first line with bytes that are not UTF-8 (an LF
 * byte never occurs inside a multi-byte sequence, so lines can be decoded one by one).
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return decoder.decode(bytes);
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i += 1) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          decoder.decode(bytes.subarray(start, i));
        } catch {
          throw new WebVttError(line, 'the file is not UTF-8 text (WebVTT files must be UTF-8)');
        }
        line += 1;
        start = i + 1;
      }
    }
    throw new WebVttError(1, 'the file is not UTF-8 text (WebVTT files must be UTF-8)');
  }
}

/** The text looks like a SubRip file (`1` then `00:00:01,000 --> …`). */
function looksLikeSubRip(lines: readonly string[]): boolean {
  return /^\d+$/.test(lines[0]?.trim() ?? '') && /-->/.test(lines[1] ?? '') && /,\d{3}/.test(lines[1] ?? '');
}

/**
 * Checks an uploaded WebVTT file and returns it normalised for storage. Throws {@link WebVttError} for the first
 * problem, naming its line. What is checked: UTF-8; the `WEBVTT` signature line (a BOM before it is allowed); a blank
 * line after the header; every cue's timing line (`start --> end [settings]`, timestamps `hh:mm:ss.ttt` or `mm:ss.ttt`,
 * end after start); no `-->` inside cue text or notes (a missing blank line between cues); `STYLE` and `REGION`
 * blocks before the first cue; at least one cue.
 *
 * Normalisation: the BOM is dropped, line ends become LF, trailing blank lines become one final newline, and an
 * `X-TIMESTAMP-MAP` header is removed (uploaded cue times are relative to the start of the video; the service adds
 * its own map when serving the file to players, see `subtitle-playlist.ts`).
 *
 * @example
 * checkWebVtt(new TextEncoder().encode('\uFEFFWEBVTT\r\n\r\n00:01.000 --> 00:02.500\r\nHello\r\n'));
 * // { text: 'WEBVTT\n\n00:01.000 --> 00:02.500\nHello\n', cueCount: 1 }
 */
export function checkWebVtt(bytes: Uint8Array): CheckedWebVtt {
  let text = decodeUtf8(bytes);
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const lines = text.split(/\r\n|\r|\n/);
  const nul = lines.findIndex((line) => line.includes('\u0000'));
  if (nul >= 0) throw new WebVttError(nul + 1, 'the file contains a NUL character: is it a binary file?');

  if (!SIGNATURE.test(lines[0] ?? '')) {
    throw new WebVttError(
      1,
      looksLikeSubRip(lines)
        ? 'a WebVTT file starts with "WEBVTT"; this looks like a SubRip (.srt) file: convert it to WebVTT first'
        : 'a WebVTT file must start with a line "WEBVTT"',
    );
  }

  const out: string[] = [lines[0] as string];
  let i = 1;
  // The header: lines up to the first blank line.
  for (; i < lines.length && lines[i] !== ''; i += 1) {
    const line = lines[i] as string;
    if (line.includes('-->')) {
      throw new WebVttError(i + 1, 'a blank line must separate the WEBVTT header from the first cue');
    }
    if (!TIMESTAMP_MAP.test(line)) out.push(line);
  }

  let cueCount = 0;
  while (i < lines.length) {
    if (lines[i] === '') {
      i += 1;
      continue;
    }
    const start = i;
    while (i < lines.length && lines[i] !== '') i += 1;
    const block = lines.slice(start, i);
    checkBlock(block, start + 1, cueCount > 0);
    if (isCue(block)) cueCount += 1;
    out.push('', ...block);
  }
  if (cueCount === 0) throw new WebVttError(lines.length, 'the file has no cues');
  return { text: `${out.join('\n')}\n`, cueCount };
}

const isNote = (line: string) => /^NOTE(?:[ \t]|$)/.test(line);
const isStyleOrRegion = (line: string) => /^(?:STYLE|REGION)[ \t]*$/.test(line);
const isCue = (block: readonly string[]) => !isNote(block[0] ?? '') && !isStyleOrRegion(block[0] ?? '');

/** Checks one block (lines between blank lines); `firstLine` is the 1-based line number of `block[0]`. */
function checkBlock(block: readonly string[], firstLine: number, afterCues: boolean): void {
  const head = block[0] as string;
  if (isNote(head) || isStyleOrRegion(head)) {
    const arrow = block.findIndex((line) => line.includes('-->'));
    if (arrow >= 0) {
      throw new WebVttError(
        firstLine + arrow,
        `"-->" inside a ${head.split(/[ \t]/)[0]} block: end it with a blank line`,
      );
    }
    if (afterCues && isStyleOrRegion(head)) {
      throw new WebVttError(firstLine, `${head.trim()} blocks must come before the first cue`);
    }
    return;
  }
  const timingIndex = head.includes('-->') ? 0 : 1;
  const timing = block[timingIndex];
  if (timing === undefined) {
    throw new WebVttError(
      firstLine,
      'text outside a cue: each cue starts with a timing line ("00:00:01.000 --> 00:00:04.000")',
    );
  }
  if (!timing.includes('-->')) {
    throw new WebVttError(
      firstLine + timingIndex,
      'expected a cue timing line ("00:00:01.000 --> 00:00:04.000") after the cue identifier',
    );
  }
  const line = firstLine + timingIndex;
  const match = TIMING.exec(timing);
  if (!match) {
    throw new WebVttError(
      line,
      'a cue timing line is "start --> end" with a space on each side of the arrow',
    );
  }
  const [, from = '', to = ''] = match;
  const startSeconds = parseTimestamp(from);
  if (startSeconds === undefined) throw new WebVttError(line, timestampProblem(from));
  const endSeconds = parseTimestamp(to);
  if (endSeconds === undefined) throw new WebVttError(line, timestampProblem(to));
  if (!(endSeconds > startSeconds)) {
    throw new WebVttError(line, `the cue must end after it starts (${to} is not after ${from})`);
  }
  for (let j = timingIndex + 1; j < block.length; j += 1) {
    if ((block[j] as string).includes('-->')) {
      throw new WebVttError(firstLine + j, 'a new cue must follow a blank line ("-->" inside cue text)');
    }
  }
}

/**
 * Adds `X-TIMESTAMP-MAP=MPEGTS:<mpegts>,LOCAL:00:00:00.000` to the header of a stored (normalised) WebVTT file, so
 * that cue time 0 is the MPEG-TS timestamp `mpegts` (90 kHz) of the video's segments.
 *
 * @example
 * withTimestampMap('WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n', 126000);
 * // 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:01.000 --> 00:02.000\nHi\n'
 */
export function withTimestampMap(vtt: string, mpegts: number): string {
  const newline = vtt.indexOf('\n');
  const first = newline < 0 ? vtt : vtt.slice(0, newline);
  const rest = newline < 0 ? '\n' : vtt.slice(newline);
  return `${first}\nX-TIMESTAMP-MAP=MPEGTS:${Math.round(mpegts)},LOCAL:00:00:00.000${rest}`;
}
