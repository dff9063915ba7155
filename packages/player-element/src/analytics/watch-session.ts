/** Seconds as sorted disjoint `[start, end)` ranges of whole seconds. */
export type SecondRanges = Array<[number, number]>;

/** The ranges of the seconds of `counts` seen at least `min` times. */
export function rangesOf(counts: ReadonlyMap<number, number>, min: number): SecondRanges {
  const seconds = [...counts]
    .filter(([, n]) => n >= min)
    .map(([s]) => s)
    .sort((a, b) => a - b);
  const ranges: SecondRanges = [];
  for (const second of seconds) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === second) last[1] = second + 1;
    else ranges.push([second, second + 1]);
  }
  return ranges;
}

/**
 * Which seconds of the video one viewing session watched, and how often: each continuous stretch of playback counts
 * every second it passes through once; a seek (or a jump) starts a new stretch, so going back counts seconds again.
 *
 * @example
 * const watched = new WatchedSeconds();
 * for (const t of [0, 1.2, 2.5]) watched.playedAt(t);  // seconds 0, 1, 2
 * watched.seeked();
 * watched.playedAt(1.1);                               // second 1 again
 * rangesOf(watched.counts, 2);                         // [[1, 2]]
 */
export class WatchedSeconds {
  readonly counts = new Map<number, number>();
  #last: number | null = null;

  /** Playback is at `time` (seconds) and moving. */
  playedAt(time: number): void {
    if (!Number.isFinite(time) || time < 0) return;
    const second = Math.floor(time);
    const last = this.#last;
    if (last !== null && second === last) return;
    const from = last !== null && second > last && second - last <= 3 ? last + 1 : second;
    for (let s = from; s <= second; s++) this.counts.set(s, (this.counts.get(s) ?? 0) + 1);
    this.#last = second;
  }

  /** A seek: the next played time starts a new stretch. */
  seeked(): void {
    this.#last = null;
  }
}
