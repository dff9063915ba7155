/** One chapter of the video, as the player has it. */
export interface PlayerChapter {
  /** Seconds from the start of the video. */
  start: number;
  /** Where the next chapter starts (the last: the end of the video). */
  end: number;
  title: string;
}

const TIMING = /^([\d:.]+)[ \t]+-->[ \t]+([\d:.]+)/;

const toSeconds = (time: string): number =>
  time.split(':').reduce((total, part) => total * 60 + Number(part), 0);

const decode = (text: string) =>
  text
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');

/**
 * Reads a WebVTT `kind=chapters` track: one chapter per cue (its text, lines joined, as the title), sorted by start.
 *
 * @example
 * parseChapters('WEBVTT\n\n1\n00:00:00.000 --> 00:01:00.000\nIntro\n');
 * // [{ start: 0, end: 60, title: 'Intro' }]
 */
export function parseChapters(vtt: string): PlayerChapter[] {
  const chapters: PlayerChapter[] = [];
  for (const block of vtt.replace(/\r\n?/g, '\n').split(/\n\n+/)) {
    const lines = block.split('\n');
    const at = lines.findIndex((line) => TIMING.test(line));
    if (at < 0 || /^NOTE\b/.test(lines[0]!)) continue;
    const [, start, end] = TIMING.exec(lines[at]!)!;
    const title = decode(lines.slice(at + 1).join(' ')).trim();
    chapters.push({ start: toSeconds(start!), end: toSeconds(end!), title });
  }
  return chapters.sort((a, b) => a.start - b.start);
}
