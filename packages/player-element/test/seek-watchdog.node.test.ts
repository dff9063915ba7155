import { describe, expect, it } from 'vitest';
import { SeekWatchdog, type WatchdogClock } from '../src/engine/seek-watchdog.js';

/** A stand-in for a `<video>` whose seeks complete only when the test says so. */
class FakeMedia extends EventTarget {
  seeking = false;
  #time = 0;
  seeks: number[] = [];
  bufferedRanges: Array<[number, number]> = [[0, 8]];
  get currentTime(): number {
    return this.#time;
  }
  set currentTime(time: number) {
    this.#time = time;
    this.seeks.push(time);
    this.seeking = true;
    this.dispatchEvent(new Event('seeking'));
  }
  get buffered(): TimeRanges {
    const ranges = this.bufferedRanges;
    return { length: ranges.length, start: (i) => ranges[i]![0], end: (i) => ranges[i]![1] } as TimeRanges;
  }
  completeSeek(): void {
    this.seeking = false;
    this.dispatchEvent(new Event('seeked'));
  }
}

/** Timers that run only when the test advances them. */
function manualClock(): WatchdogClock & { advance(ms: number): void; pending(): number } {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    setTimeout: (callback, ms) => {
      timers.set(next, { at: now + ms, callback });
      return next++;
    },
    clearTimeout: (handle) => void timers.delete(handle as number),
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at <= now && timers.delete(id)) timer.callback();
      }
    },
    pending: () => timers.size,
  };
}

function watch(media: FakeMedia) {
  const clock = manualClock();
  const stuck: number[] = [];
  const watchdog = new SeekWatchdog(media as unknown as HTMLMediaElement, {
    timeoutMs: 3000,
    clock,
    onStuck: (target) => stuck.push(target),
  });
  return { clock, stuck, watchdog };
}

describe('SeekWatchdog', () => {
  it('leaves a seek that completes in time alone', () => {
    const media = new FakeMedia();
    const { clock, stuck } = watch(media);
    media.currentTime = 4;
    clock.advance(2000);
    media.completeSeek();
    clock.advance(10_000);
    expect(media.seeks).toEqual([4]);
    expect(stuck).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('seeks to the same target once more when a seek stays pending with its target buffered', () => {
    const media = new FakeMedia();
    const { clock, stuck } = watch(media);
    media.currentTime = 4;
    clock.advance(2999);
    expect(media.seeks).toEqual([4]);
    clock.advance(1);
    expect(media.seeks).toEqual([4, 4]);
    media.completeSeek();
    clock.advance(10_000);
    expect(stuck).toEqual([]);
  });

  it('reports a seek still stuck after the re-seek, once', () => {
    const media = new FakeMedia();
    const { clock, stuck } = watch(media);
    media.currentTime = 5;
    clock.advance(3000);
    clock.advance(3000);
    expect(media.seeks).toEqual([5, 5]);
    expect(stuck).toEqual([5]);
    clock.advance(30_000);
    expect(stuck).toEqual([5]);
  });

  it('waits for the network while the target is not buffered, then watches again', () => {
    const media = new FakeMedia();
    media.bufferedRanges = [[0, 2]];
    const { clock, stuck } = watch(media);
    media.currentTime = 6;
    clock.advance(9000);
    expect(media.seeks).toEqual([6]);
    media.bufferedRanges = [[0, 8]];
    clock.advance(3000);
    expect(media.seeks).toEqual([6, 6]);
    expect(stuck).toEqual([]);
  });

  it('watches a new seek from its own start, with its own re-seek', () => {
    const media = new FakeMedia();
    const { clock, stuck } = watch(media);
    media.currentTime = 1;
    clock.advance(3000);
    media.completeSeek();
    media.currentTime = 7;
    clock.advance(2000);
    expect(media.seeks).toEqual([1, 1, 7]);
    clock.advance(1000);
    expect(media.seeks).toEqual([1, 1, 7, 7]);
    expect(stuck).toEqual([]);
  });

  it('stops watching when destroyed', () => {
    const media = new FakeMedia();
    const { clock, stuck, watchdog } = watch(media);
    media.currentTime = 3;
    watchdog.destroy();
    clock.advance(10_000);
    media.currentTime = 4;
    clock.advance(10_000);
    expect(media.seeks).toEqual([3, 4]);
    expect(stuck).toEqual([]);
    expect(clock.pending()).toBe(0);
  });
});
