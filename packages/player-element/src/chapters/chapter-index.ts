import type { PlayerChapter } from './chapters-vtt.js';

/** Index of the chapter playing at `time` (the last that starts at or before it), or -1. */
export function chapterIndexAt(chapters: readonly PlayerChapter[], time: number): number {
  let found = -1;
  for (let i = 0; i < chapters.length && chapters[i]!.start <= time; i++) found = i;
  return found;
}
