import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { NotetakerErrorDetail, PlayerState } from '../constants.js';
import type { QualityLevel } from '../engine/playback-engine.js';
import { playerTiming } from '../player-timing.js';
import { rangesOf, WatchedSeconds } from './watch-session.js';

/** The element whose viewing sessions this controller reports. */
export interface AnalyticsHost extends ReactiveControllerHost, HTMLElement {
  readonly media: HTMLVideoElement;
  readonly videoId: string | null;
  readonly state: PlayerState;
  readonly disableAnalytics: boolean;
  readonly activeQualityLevel: number;
  readonly qualityLevels: readonly QualityLevel[];
}

/**
 * Where a video's viewing reports go: `analytics` beside the playlist of `hlsUrl`, with its playback token
 * (`…/api/videos/{id}/playlist.m3u8?token=T` → `…/api/videos/{id}/analytics?token=T`).
 */
export function analyticsUrlOf(hlsUrl: string): string | null {
  try {
    const playlist = new URL(hlsUrl);
    const token = playlist.searchParams.get('token');
    if (!token) return null;
    const url = new URL('analytics', playlist);
    url.search = `?token=${encodeURIComponent(token)}`;
    return url.href;
  } catch {
    return null;
  }
}

/** One viewing session of one video. */
interface Session {
  id: string;
  videoId: string;
  url: string;
  startedAt: number;
  startupMs: number | null;
  rebufferCount: number;
  rebufferMs: number;
  rebufferSince: number | null;
  errorCode: string | null;
  watched: WatchedSeconds;
  switches: number;
  /** The rendition seen playing last (its size and bit rate: indexes change when new renditions arrive). */
  rendition: string | null;
  reached90: boolean;
  /** Something happened since the last report. */
  dirty: boolean;
}

const MEDIA = ['loadeddata', 'playing', 'timeupdate', 'seeking', 'waiting', 'pause'] as const;

/**
 * Watch analytics of `<notetaker-player>`: measures one session per video load (startup time from asking `/stream`
 * to the first frame, rebuffering, the error it stopped on, the seconds watched and watched again, rendition
 * switches, whether it reached 90 %) and reports it to the server as one JSON document that each report replaces:
 * every 30 s when something happened since the last one (`fetch` with `keepalive`), with `navigator.sendBeacon` when
 * the page is hidden or closed, and when the video changes or the element goes away.
 * No cookie; the report goes to the playback URL, with the playback token. `disable-analytics` turns it off.
 */
export class AnalyticsController implements ReactiveController {
  #host: AnalyticsHost;
  #session: Session | null = null;
  /** When the current load asked `/stream` (the start of startup time). */
  #loadStartedAt: number | null = null;
  #lastState: PlayerState | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(host: AnalyticsHost) {
    this.#host = host;
    host.addController(this);
  }

  /** The playable URL of the current load arrived: a new session starts, unless it is the same video's. */
  streamStarted(hlsUrl: string): void {
    const videoId = this.#host.videoId;
    const url = analyticsUrlOf(hlsUrl);
    if (!url || !videoId || this.#host.disableAnalytics) return;
    if (this.#session?.videoId === videoId) {
      this.#session.url = url; // a reload with a fresh token
      return;
    }
    this.#end();
    this.#session = {
      id: crypto.randomUUID(),
      videoId,
      url,
      startedAt: this.#loadStartedAt ?? performance.now(),
      startupMs: null,
      rebufferCount: 0,
      rebufferMs: 0,
      rebufferSince: null,
      errorCode: null,
      watched: new WatchedSeconds(),
      switches: 0,
      rendition: null,
      reached90: false,
      dirty: false,
    };
  }

  hostConnected(): void {
    const host = this.#host;
    for (const type of MEDIA) host.media.addEventListener(type, this.#onMedia);
    host.addEventListener('notetaker-error', this.#onError);
    document.addEventListener('visibilitychange', this.#onVisibility);
    window.addEventListener('pagehide', this.#onPageHide);
    this.#timer = setInterval(() => this.#send(false), playerTiming.analyticsFlushMs);
  }

  hostDisconnected(): void {
    const host = this.#host;
    for (const type of MEDIA) host.media.removeEventListener(type, this.#onMedia);
    host.removeEventListener('notetaker-error', this.#onError);
    document.removeEventListener('visibilitychange', this.#onVisibility);
    window.removeEventListener('pagehide', this.#onPageHide);
    clearInterval(this.#timer);
    this.#end();
  }

  hostUpdated(): void {
    const state = this.#host.state;
    if (state === this.#lastState) return;
    // Asking `/stream` for a new video: startup time starts now.
    if (state === 'loading' && (this.#lastState === 'idle' || this.#lastState === null)) {
      this.#loadStartedAt = performance.now();
    }
    if (state === 'idle') this.#end();
    this.#lastState = state;
  }

  #onMedia = (event: Event): void => {
    const session = this.#session;
    if (!session || this.#host.disableAnalytics) return;
    const video = this.#host.media;
    const now = performance.now();
    switch (event.type) {
      case 'loadeddata':
        session.startupMs ??= Math.round(now - session.startedAt);
        break;
      case 'seeking':
        session.watched.seeked();
        this.#stopRebuffer(now);
        break;
      case 'waiting':
        if (!video.seeking && session.startupMs !== null && session.rebufferSince === null) {
          session.rebufferSince = now;
          session.rebufferCount += 1;
        }
        break;
      case 'pause':
        // Where it paused was played up to.
        this.#stopRebuffer(now);
        if (!video.seeking) session.watched.playedAt(video.currentTime);
        break;
      default: {
        // playing, timeupdate
        this.#stopRebuffer(now);
        if (video.paused || video.seeking) break;
        session.watched.playedAt(video.currentTime);
        const level = this.#host.qualityLevels[this.#host.activeQualityLevel];
        const rendition = level ? `${level.width}x${level.height}@${level.bitrate}` : null;
        if (rendition) {
          if (session.rendition && rendition !== session.rendition) session.switches += 1;
          session.rendition = rendition;
        }
        const { duration } = video;
        if (Number.isFinite(duration) && duration > 0 && video.currentTime >= duration * 0.9)
          session.reached90 = true;
      }
    }
    session.dirty = true;
  };

  #stopRebuffer(now: number): void {
    const session = this.#session;
    if (session?.rebufferSince == null) return;
    session.rebufferMs += now - session.rebufferSince;
    session.rebufferSince = null;
  }

  #onError = (event: Event): void => {
    const session = this.#session;
    if (!session) return;
    session.errorCode = (event as CustomEvent<NotetakerErrorDetail>).detail.code;
    session.dirty = true;
  };

  #onVisibility = (): void => {
    if (document.visibilityState === 'hidden') this.#send(false, true);
  };

  #onPageHide = (): void => {
    this.#send(true, true);
  };

  /** Sends the session's last report and forgets it. */
  #end(): void {
    this.#send(true, true);
    this.#session = null;
  }

  /** Reports the session so far (nothing when nothing happened since the last report, unless it is the last). */
  #send(final: boolean, beacon = false): void {
    const session = this.#session;
    if (!session || this.#host.disableAnalytics) return;
    const video = this.#host.media;
    if (!video.paused && !video.seeking) session.watched.playedAt(video.currentTime);
    if (!session.dirty && !final) return;
    const counts = session.watched.counts;
    if (session.startupMs === null && counts.size === 0 && !session.errorCode) return;
    session.dirty = false;
    const body = JSON.stringify({
      session_id: session.id,
      startup_ms: session.startupMs,
      rebuffer_count: session.rebufferCount,
      rebuffer_ms: Math.round(session.rebufferMs),
      error_code: session.errorCode,
      watched: rangesOf(counts, 1),
      rewatched: rangesOf(counts, 2),
      rendition_switches: session.switches,
      reached_90: session.reached90,
      final,
    });
    // A string body is sent as text/plain: no CORS preflight, so it also leaves a page that is closing.
    if (beacon && navigator.sendBeacon?.(session.url, body)) return;
    fetch(session.url, {
      method: 'POST',
      body,
      keepalive: true,
      headers: { 'content-type': 'text/plain' },
    }).catch(() => undefined);
  }
}
