import { describe, expect, it } from 'vitest';
import { analyticsUrlOf } from '../src/analytics/analytics-controller.js';
import { rangesOf, WatchedSeconds } from '../src/analytics/watch-session.js';

describe('watched seconds', () => {
  it('counts each second of a stretch once, and again after going back', () => {
    const watched = new WatchedSeconds();
    for (const t of [0, 0.25, 0.5, 1.2, 2.4, 3.9, 4.3, 5.1]) watched.playedAt(t);
    watched.seeked();
    for (const t of [2.1, 2.6, 3.3, 4.05]) watched.playedAt(t);
    expect(rangesOf(watched.counts, 1)).toEqual([[0, 6]]);
    expect(rangesOf(watched.counts, 2)).toEqual([[2, 5]]);
  });

  it('does not count the seconds a jump skips, nor the time of a pause twice', () => {
    const watched = new WatchedSeconds();
    for (const t of [0, 1.5, 30.2, 31.4, 31.4, 31.6]) watched.playedAt(t);
    expect(rangesOf(watched.counts, 1)).toEqual([
      [0, 2],
      [30, 32],
    ]);
    expect(rangesOf(watched.counts, 2)).toEqual([]);
    watched.playedAt(Number.NaN);
    watched.playedAt(-1);
    expect(watched.counts.size).toBe(4);
  });
});

describe('analytics URL', () => {
  it('sits beside the playlist with its playback token only', () => {
    expect(analyticsUrlOf('https://s.example/api/videos/v1/playlist.m3u8?token=a%2Bb&type=event')).toBe(
      'https://s.example/api/videos/v1/analytics?token=a%2Bb',
    );
    expect(analyticsUrlOf('https://s.example/api/videos/v1/master.m3u8?token=t')).toBe(
      'https://s.example/api/videos/v1/analytics?token=t',
    );
    expect(analyticsUrlOf('https://cdn.example/v1.m3u8')).toBeNull();
    expect(analyticsUrlOf('not a url')).toBeNull();
  });
});
