// The framework-free engine on its own, against the ffmpeg-made fixture served with scripted failures.
import type { HlsConfig } from 'hls.js';
import {
  createPlaybackEngine,
  type EngineErrorCode,
  type PlaybackEngine,
  type PlaybackSnapshot,
  type ReloadReason,
} from '../src/engine/playback-engine.js';
import { SeekWatchdog } from '../src/engine/seek-watchdog.js';
import { assert, equal, trackHls, waitFor } from './support/browser.js';

/** hls.js gives up on a failed segment at once, so the engine's own recovery is what is tested. */
const NO_HLS_RETRY = {
  fragLoadPolicy: {
    default: {
      maxTimeToFirstByteMs: 10_000,
      maxLoadTimeMs: 20_000,
      timeoutRetry: { maxNumRetry: 0, retryDelayMs: 0, maxRetryDelayMs: 0 },
      errorRetry: { maxNumRetry: 0, retryDelayMs: 0, maxRetryDelayMs: 0 },
    },
  },
} as Partial<HlsConfig>;

let engine: PlaybackEngine | undefined;
let video: HTMLVideoElement;
let events: string[];
let reloads: PlaybackSnapshot[];
let watchdog: SeekWatchdog | undefined;

function start(mode: string, startPosition = 0): Promise<void> {
  video = document.createElement('video');
  video.muted = true;
  document.body.append(video);
  // As in the player: WebKit sometimes leaves a seek made before the first frame (hls.js's own, past the fixture's
  // small start gap) pending with its target buffered; the watchdog re-seeks it (see seek-watchdog.ts).
  watchdog = new SeekWatchdog(video, { onStuck: () => events.push('seek_stalled') });
  events = [];
  reloads = [];
  engine = createPlaybackEngine({
    video,
    kind: 'mse',
    hlsConfig: NO_HLS_RETRY,
    recovery: { networkRetries: 2, baseDelayMs: 50 },
    onReloadNeeded: (reason: ReloadReason, at) => {
      events.push(`reload:${reason}`);
      reloads.push(at);
    },
    onFatal: (code: EngineErrorCode) => events.push(`fatal:${code}`),
  });
  const key = Math.random().toString(36).slice(2);
  return engine.load({ url: `/flaky/${key}/${mode}/playlist`, startPosition });
}

/** Where the media element stands, for a failure message. */
function mediaState(): string {
  const ranges = Array.from(
    { length: video.buffered.length },
    (_, i) => `${video.buffered.start(i).toFixed(2)}-${video.buffered.end(i).toFixed(2)}`,
  );
  return `currentTime ${video.currentTime.toFixed(2)}, seeking ${video.seeking}, paused ${video.paused}, readyState ${video.readyState}, buffered ${ranges.join(' ') || 'none'}`;
}

afterEach(() => {
  watchdog?.destroy();
  engine?.destroy();
  engine = undefined;
  video.remove();
});

describe('playback engine', () => {
  it('retries a fatal segment error after a backoff and plays on', async () => {
    const hls = await trackHls();
    try {
      await start('1');
      video.play().catch(() => undefined);
      await waitFor(
        () => video.currentTime > 2.5,
        () => `played past the failed segment (${mediaState()})`,
      );
      equal(events.join(), '', 'engine events');
      equal(hls.live.size, 1, 'one hls.js instance');
    } finally {
      hls.restore();
    }
  });

  it('gives up with playback_network after its retries and tears down', async () => {
    const hls = await trackHls();
    try {
      await start('all');
      video.play().catch(() => undefined);
      await waitFor(() => events.length > 0, 'engine gave up');
      equal(events.join(), 'fatal:playback_network', 'engine events');
      equal(hls.live.size, 0, 'hls.js destroyed');
      assert(!video.hasAttribute('src'), 'media detached');
    } finally {
      hls.restore();
    }
  });

  it('asks for a fresh URL on 403 and reports where playback was', async () => {
    const hls = await trackHls();
    try {
      await start('forbidden');
      video.play().catch(() => undefined);
      await waitFor(() => events.length > 0, 'reload asked');
      equal(events.join(), 'reload:forbidden', 'engine events');
      equal(hls.live.size, 0, 'hls.js destroyed before the reload');
      assert(reloads[0]!.position >= 0 && reloads[0]!.position < 2, `position ${reloads[0]!.position}`);
    } finally {
      hls.restore();
    }
  });

  it('tears down the previous hls.js instance on every load', async () => {
    const hls = await trackHls();
    try {
      await start('0');
      await engine!.load({ url: '/flaky/again/0/playlist', startPosition: 3 });
      await engine!.load({ url: '/flaky/again2/0/playlist', startPosition: 4 });
      equal(hls.created(), 3, 'instances created');
      equal(hls.live.size, 1, 'instances alive');
      engine!.destroy();
      equal(hls.live.size, 0, 'instances alive after destroy');
    } finally {
      hls.restore();
    }
  });

  it('starts loading at the start position', async () => {
    await start('0', 5);
    void video.play();
    await waitFor(() => video.readyState >= 3 && !video.seeking, 'can play');
    assert(video.currentTime >= 4.9, `starts at 5 s (${video.currentTime})`);
  });
});
