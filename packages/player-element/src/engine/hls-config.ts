import type { HlsConfig } from 'hls.js';

/**
 * hls.js settings for on-demand video: start where asked (a generating EVENT playlist would otherwise start at its
 * live edge), keep a modest forward buffer and a bounded back buffer so long videos do not grow memory.
 */
export function createHlsConfig(startPosition: number, overrides?: Partial<HlsConfig>): Partial<HlsConfig> {
  return {
    startPosition,
    maxBufferLength: 30,
    maxMaxBufferLength: 120,
    backBufferLength: 60,
    maxBufferSize: 60 * 1000 * 1000,
    startFragPrefetch: true,
    capLevelToPlayerSize: true,
    lowLatencyMode: false,
    enableWorker: true,
    ...overrides,
  };
}
