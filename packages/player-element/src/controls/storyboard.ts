/** One thumbnail of a storyboard: a region of a sprite image shown for a span of the video. */
export interface StoryboardCue {
  start: number;
  end: number;
  /** Absolute URL of the sprite image (without the `#xywh` fragment). */
  url: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

const CUE = /([\d:.]+)[ \t]+-->[ \t]+([\d:.]+)[^\n]*\r?\n[ \t]*([^\s#]+)#xywh=(\d+),(\d+),(\d+),(\d+)/g;

const toSeconds = (time: string): number =>
  time.split(':').reduce((total, part) => total * 60 + Number(part), 0);

/**
 * Reads a storyboard WebVTT: each cue's payload is an image URL with a `#xywh=x,y,w,h` fragment (a region of a
 * sprite sheet). Relative URLs are resolved against `baseUrl`, the address of the VTT.
 *
 * @example
 * parseStoryboard('WEBVTT\n\n00:00.000 --> 00:02.000\nsprite.jpg#xywh=0,0,160,90\n', 'https://cdn.example/v/sb.vtt');
 * // [{ start: 0, end: 2, url: 'https://cdn.example/v/sprite.jpg', x: 0, y: 0, width: 160, height: 90 }]
 */
export function parseStoryboard(vtt: string, baseUrl: string): StoryboardCue[] {
  return [...vtt.matchAll(CUE)].map(([, start, end, url, x, y, width, height]) => ({
    start: toSeconds(start!),
    end: toSeconds(end!),
    url: new URL(url!, baseUrl).href,
    x: Number(x),
    y: Number(y),
    width: Number(width),
    height: Number(height),
  }));
}

/** The cue shown at `time`: the one whose span contains it, else the last one that starts before it. */
export function findStoryboardCue(cues: readonly StoryboardCue[], time: number): StoryboardCue | undefined {
  let found: StoryboardCue | undefined;
  for (const cue of cues) {
    if (cue.start > time) break;
    found = cue;
    if (time < cue.end) break;
  }
  return found;
}

/** Fetches and parses a storyboard VTT; rejects on an HTTP error or an abort. */
export async function loadStoryboard(url: string, signal: AbortSignal): Promise<StoryboardCue[]> {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`Storyboard ${url}: HTTP ${response.status}`);
  return parseStoryboard(await response.text(), response.url || url);
}
