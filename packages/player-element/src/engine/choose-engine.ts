import type { PreferPlayback } from '../constants.js';

/** Which playback path plays HLS: hls.js on Media Source Extensions, the browser's own HLS, or none. */
export const EngineKind = { mse: 'mse', native: 'native', none: 'none' } as const;
export type EngineKind = (typeof EngineKind)[keyof typeof EngineKind];

/** What the browser offers, as far as picking an engine goes. */
export interface EngineEnvironment {
  /** `MediaSource` or `ManagedMediaSource` exists and accepts H.264/AAC. */
  mse: boolean;
  /** `canPlayType('application/vnd.apple.mpegurl')` is not empty. */
  nativeHls: boolean;
  /** Safari on macOS, or any browser on iOS/iPadOS (all WebKit). */
  apple: boolean;
}

/**
 * Picks the engine. hls.js wherever MSE exists, except on Apple platforms, where native HLS is better
 * integrated (AirPlay, power use, fullscreen on iPhone). `canPlayType` alone is not the test: Chromium also
 * answers "maybe" to HLS. `prefer` overrides the choice when the preferred path is available.
 */
export function chooseEngine(env: EngineEnvironment, prefer?: PreferPlayback | null): EngineKind {
  if (prefer === 'native' && env.nativeHls) return 'native';
  if (prefer === 'mse' && env.mse) return 'mse';
  if (env.apple && env.nativeHls) return 'native';
  if (env.mse) return 'mse';
  return env.nativeHls ? 'native' : 'none';
}

const MSE_TYPE = 'video/mp4; codecs="avc1.42E01E,mp4a.40.2"';

/** Reads the environment of the current browser (`globalThis` unless given). */
export function detectEngineEnvironment(
  video: Pick<HTMLMediaElement, 'canPlayType'>,
  scope: { navigator?: Navigator; MediaSource?: unknown; ManagedMediaSource?: unknown } = globalThis,
): EngineEnvironment {
  const source = (scope.ManagedMediaSource ?? scope.MediaSource) as
    { isTypeSupported?: (type: string) => boolean } | undefined;
  const nav = scope.navigator;
  const ua = nav?.userAgent ?? '';
  const ios = /iP(hone|od|ad)/.test(ua) || (/Macintosh/.test(ua) && (nav?.maxTouchPoints ?? 0) > 1);
  const macSafari =
    /Macintosh/.test(ua) && /Safari\//.test(ua) && !/Chrom|CriOS|FxiOS|Firefox|Edg|OPR/.test(ua);
  return {
    mse: !!source?.isTypeSupported?.(MSE_TYPE),
    nativeHls: video.canPlayType('application/vnd.apple.mpegurl') !== '',
    apple: ios || macSafari,
  };
}
