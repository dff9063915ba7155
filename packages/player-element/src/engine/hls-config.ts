import type { HlsConfig } from 'hls.js';

/**
 * hls.js settings for on-demand video, including videos still being generated (an EVENT playlist that grows until
 * it gains `EXT-X-ENDLIST`, which hls.js treats as live until then):
 *
 * - `startPosition` is always set: without it a growing playlist would start near its live edge, not at 0.
 * - The playhead is never pulled toward the live edge: `maxLiveSyncPlaybackRate: 1` (no catching up by playing
 *   faster), and hls.js's default `liveMaxLatencyDurationCount` (Infinity: no "too far behind" jump) is left alone —
 *   setting it would force `liveSyncDurationCount` too and forbid `liveSyncDuration` in `hlsConfig`. hls.js still
 *   moves the playhead to the edge when it lies beyond the listed end, so the element never seeks there: it queues
 *   such seeks until the playlist reaches them.
 * - `liveDurationInfinity: false`: while the playlist grows, the media duration is the listed length, so the seek bar
 *   can show what exists; it becomes the full length once `EXT-X-ENDLIST` arrives.
 * - `renderTextTracksNatively: false`: hls.js hands over the cues it parses and the engine puts them into text tracks
 *   of its own; hls.js's own `<track>` elements lose their cues in WebKit (see subtitle-text-tracks.ts).
 * - A modest forward buffer and a bounded back buffer, so long videos do not grow memory.
 */
export function createHlsConfig(startPosition: number, overrides?: Partial<HlsConfig>): Partial<HlsConfig> {
  return {
    startPosition,
    maxLiveSyncPlaybackRate: 1,
    liveDurationInfinity: false,
    maxBufferLength: 30,
    maxMaxBufferLength: 120,
    backBufferLength: 60,
    maxBufferSize: 60 * 1000 * 1000,
    startFragPrefetch: true,
    capLevelToPlayerSize: true,
    lowLatencyMode: false,
    enableWorker: true,
    renderTextTracksNatively: false,
    ...overrides,
  };
}
