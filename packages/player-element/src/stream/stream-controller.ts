import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { HlsConfig } from 'hls.js';
import { createStreamPlaybackClient } from '@notetaker/client-sdk';
import {
  PlayerEventName,
  type AutoplayPolicy,
  type NotetakerErrorDetail,
  type NotetakerStatusDetail,
  type PlayerErrorCode,
  type PlayerState,
  type PreferPlayback,
} from '../constants.js';
import { chooseEngine, detectEngineEnvironment } from '../engine/choose-engine.js';
import {
  createPlaybackEngine,
  type PlaybackEngine,
  type PlaybackSnapshot,
  type ReloadReason,
} from '../engine/playback-engine.js';
import { SeekWatchdog } from '../engine/seek-watchdog.js';
import type { PlayerStreamClient, StreamStatus, TokenProvider } from '../stream-client.js';
import { playerError, reloadErrorCode, streamErrorCode } from './player-errors.js';
import { ReloadBudget } from './reload-budget.js';
import { TokenCache } from './token-cache.js';

/**
 * A queued seek lands once the growing playlist reaches this far past it; until then the playhead waits at the end
 * of what exists.
 */
const SEEK_MARGIN = 0.5;

/** The element a `StreamController` loads into: its inputs, its video, and where its events go. */
export interface StreamHost extends ReactiveControllerHost, EventTarget {
  readonly media: HTMLVideoElement;
  readonly videoId: string | null;
  readonly apiBase: string | null;
  readonly token: string | null;
  readonly getToken: TokenProvider | null;
  readonly client: PlayerStreamClient | null;
  readonly startTime: number | null;
  readonly autoplay: AutoplayPolicy;
  readonly preferPlayback: PreferPlayback | null;
  readonly hlsConfig: Partial<HlsConfig> | null;
  readonly isConnected: boolean;
  readonly hasUpdated: boolean;
  /** The controller's `view.state`: the controller reports its changes as `requestUpdate('state', old)`. */
  readonly state: PlayerState;
  requestUpdate(name?: PropertyKey, oldValue?: unknown): void;
}

/** What the host renders from; every change asks the host for an update. */
export interface StreamView {
  state: PlayerState;
  /** Generation progress (0–1) while preparing, when the server knows it. */
  progress: number | null;
  error: NotetakerErrorDetail | null;
  /** Playing but waiting for data, or a seek is waiting for the playlist to grow. */
  buffering: boolean;
  /** Storyboard VTT and poster the `/stream` answer offered. */
  storyboardUrl: string | null;
  posterUrl: string | null;
  /** The video's chapters track (WebVTT), from the ready `/stream` answer. */
  chaptersUrl: string | null;
}

export interface StreamControllerOptions {
  /** A load starts (the previous one is torn down). */
  onLoad?(): void;
  /** The engine's renditions, subtitle renditions or growing state may have changed. */
  onEngineChange?(): void;
  /** A playable URL arrived from `/stream` (before the engine loads it). */
  onStream?(hlsUrl: string): void;
}

/**
 * The `/stream` lifecycle of `<notetaker-player>`: asks the API for the video (with the host's token or token
 * provider, or the client it was given), reports preparing while the server generates, loads the playback engine,
 * applies queued seeks and play-on-ready, reloads with a fresh URL when playback needs one (within a budget per
 * minute), and resumes where playback was after a reload, a Retry or a reconnection.
 */
export class StreamController implements ReactiveController {
  #host: StreamHost;
  #options: StreamControllerOptions;
  #view: StreamView = {
    state: 'idle',
    progress: null,
    error: null,
    buffering: false,
    storyboardUrl: null,
    posterUrl: null,
    chaptersUrl: null,
  };
  #engine: PlaybackEngine | null = null;
  /** Re-seeks a seek that never completes, once, then stops on `seek_stalled` (one per engine). */
  #watchdog: SeekWatchdog | null = null;
  #run: AbortController | null = null;
  #loadQueued = false;
  #ownClient: PlayerStreamClient | null = null;
  #tokens: TokenCache;
  /** Seek asked for before any load started; the next load consumes it. */
  #requestedSeek: number | null = null;
  /** Seek of the current load waiting for the media to be seekable. */
  #pendingSeek: number | null = null;
  #playOnReady = false;
  #resume: (PlaybackSnapshot & { id: string }) | null = null;
  #reloads = new ReloadBudget();
  /** The current load started from a `generating` answer and the end of its playlist was not seen yet. */
  #generating = false;
  #quality = -1;
  /** The engine is switching to a fresh playlist: its rendition indexes are about to change. */
  #updating = false;
  #refreshing: Promise<boolean | null> | null = null;

  constructor(host: StreamHost, options: StreamControllerOptions = {}) {
    this.#host = host;
    this.#options = options;
    this.#tokens = new TokenCache(host);
    host.addController(this);
  }

  hostConnected(): void {
    if (this.#host.hasUpdated) this.requestLoad();
  }

  hostDisconnected(): void {
    const { videoId, media: video } = this.#host;
    if (videoId && this.#engine && video.readyState > 0) {
      this.#resume = { id: videoId, position: video.currentTime, playing: !video.paused };
    }
    this.#teardown();
  }

  get view(): Readonly<StreamView> {
    return this.#view;
  }

  /** The engine of the current load, or null. */
  get engine(): PlaybackEngine | null {
    return this.#engine;
  }

  /** Current position in seconds; a seek asked for before the video is seekable is reported until applied. */
  get currentTime(): number {
    const video = this.#host.media;
    return (
      this.#requestedSeek ??
      this.#pendingSeek ??
      (video.readyState ? video.currentTime : (this.#resume?.position ?? (this.#host.startTime || 0)))
    );
  }
  set currentTime(seconds: number) {
    if (this.#run && !this.#loadQueued) {
      this.#pendingSeek = seconds;
      this.#applyPendingSeek();
    } else this.#requestedSeek = seconds;
  }

  /** Chosen rendition (index into the engine's levels), or -1 for automatic; kept across reloads. */
  get quality(): number {
    return this.#quality;
  }
  set quality(index: number) {
    this.#quality = index;
    if (this.#engine) this.#engine.level = index;
    this.#host.requestUpdate();
  }

  /** Plays; before the media is ready, playback is queued and starts as soon as it can. */
  play(): Promise<void> {
    if (this.#view.state === 'ready') return this.#host.media.play();
    this.#playOnReady = true;
    return Promise.resolve();
  }

  pause(): void {
    this.#playOnReady = false;
    this.#host.media.pause();
  }

  /** Asks `/stream` again (restarting a failed generation) and resumes in place, with a fresh reload budget. */
  retry(): void {
    this.#reloads.reset();
    void this.#load(this.currentTime, this.#playOnReady, this.#view.error?.code === 'generation_failed');
  }

  /**
   * Asks `/stream` again for the video playing and applies the answer without a restart: the engine switches to the
   * fresh playlist when its renditions or subtitle renditions differ (the chosen rendition kept), and the poster,
   * storyboard and chapters URLs are taken. Resolves to whether the engine switched, or `null` when there was nothing
   * to check: no ready video playing, a playlist still growing, or no ready answer.
   */
  refresh(): Promise<boolean | null> {
    return (this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = null)));
  }

  async #refresh(): Promise<boolean | null> {
    const engine = this.#engine;
    const run = this.#run;
    const id = this.#host.videoId;
    const client = this.#client();
    if (!engine || !run || !id || !client || engine.live || this.#view.state !== 'ready') return null;
    const answer = await client.getStream(id, { signal: run.signal }).catch(() => null);
    if (answer?.status !== 'ready' || this.#engine !== engine) return null;
    this.#options.onStream?.(answer.hls_url);
    const view = this.#view;
    // Poster and storyboard only when they arrived (a fresh token alone would load their images again).
    this.#show({
      storyboardUrl: view.storyboardUrl ?? answer.storyboard_url ?? null,
      posterUrl: view.posterUrl ?? answer.poster_url ?? null,
      chaptersUrl: answer.chapters_url ?? null,
    });
    this.#updating = true;
    try {
      const switched = await engine.update(answer.hls_url);
      if (this.#engine !== engine) return null;
      // The engine kept the chosen rendition (or went back to automatic when it is gone) under its new index.
      if (switched) this.#quality = engine.level;
      return switched;
    } finally {
      this.#updating = false;
      this.#onEngineChange();
    }
  }

  /** The host's properties changed (from its `updated`): forgets what depended on them, loads again if needed. */
  propertiesChanged(changed: ReadonlyMap<PropertyKey, unknown>): void {
    if (changed.has('apiBase')) this.#ownClient = null;
    if (changed.has('token') || changed.has('getToken')) {
      this.#tokens.clear();
      if (this.#view.error?.code === 'unauthorized') this.requestLoad();
    }
    if (
      changed.has('videoId') ||
      changed.has('apiBase') ||
      changed.has('client') ||
      changed.has('preferPlayback')
    ) {
      this.requestLoad();
    }
  }

  /** Coalesces load requests on a microtask, so the order in which attributes arrive never matters. */
  requestLoad(): void {
    if (this.#loadQueued) return;
    this.#loadQueued = true;
    queueMicrotask(() => {
      this.#loadQueued = false;
      const host = this.#host;
      if (!host.isConnected) return;
      const resume = this.#resume?.id === host.videoId ? this.#resume : null;
      this.#resume = null;
      const play = resume ? resume.playing : this.#playOnReady || host.autoplay !== false;
      void this.#load(resume?.position ?? null, play);
    });
  }

  /** A media event of the host's video, handled before the host dispatches it again. */
  handleMediaEvent(type: string): void {
    if (this.#engine) {
      this.#applyPendingSeek();
      this.#checkComplete();
      if (type === 'canplay' && this.#view.state === 'loading') {
        this.#show({ state: 'ready' });
        if (this.#playOnReady) {
          this.#playOnReady = false;
          void this.#autoplay();
        }
      }
    }
    this.#show({ buffering: this.#bufferingNow() });
  }

  /** Sets what the host renders from, asking for an update for each value that changed. */
  #show(changes: Partial<StreamView>): void {
    const view = this.#view as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(changes)) {
      const old = view[key];
      if (old === value) continue;
      view[key] = value;
      this.#host.requestUpdate(key === 'state' ? key : undefined, old);
    }
  }

  #teardown(): void {
    this.#run?.abort();
    this.#run = null;
    this.#engine?.destroy();
    this.#engine = null;
    this.#watchdog?.destroy();
    this.#watchdog = null;
    this.#show({ buffering: false });
  }

  async #load(at: number | null, play: boolean, restartFailed = false): Promise<void> {
    this.#teardown();
    const host = this.#host;
    const run = (this.#run = new AbortController());
    const { signal } = run;
    const id = host.videoId;
    at ??= this.#requestedSeek ?? (host.startTime || null);
    this.#requestedSeek = null;
    this.#pendingSeek = at;
    this.#playOnReady = play;
    this.#show({ error: null, progress: null, storyboardUrl: null, posterUrl: null });
    this.#generating = false;
    this.#options.onLoad?.();
    const client = this.#client();
    if (!id || !client) {
      this.#show({ state: 'idle' });
      return;
    }
    this.#show({ state: 'loading' });
    const kind = chooseEngine(detectEngineEnvironment(host.media), host.preferPlayback);
    if (kind === 'none') return this.#fail('unsupported_browser');
    try {
      if (restartFailed) await client.retryStream(id, { signal });
      const answer = await client.waitForStream(id, {
        signal,
        untilPlayable: true,
        onStatus: this.#onStatus,
      });
      if (signal.aborted) return;
      const url = answer.hls_url;
      this.#options.onStream?.(url);
      const generating = (this.#generating = answer.status === 'generating');
      const images = answer as { storyboard_url?: string; poster_url?: string; chapters_url?: string };
      this.#show({
        storyboardUrl: images.storyboard_url ?? null,
        posterUrl: images.poster_url ?? null,
        chaptersUrl: images.chapters_url ?? null,
      });
      this.#emit(PlayerEventName.status, { status: 'ready', generating });
      this.#show({ state: 'loading' });
      const engine = (this.#engine = createPlaybackEngine({
        video: host.media,
        kind,
        hlsConfig: host.hlsConfig ?? undefined,
        onReloadNeeded: this.#onReloadNeeded,
        onFatal: (code, message, snapshot, cause) => this.#fail(code, message, snapshot, cause),
        onChange: this.#onEngineChange,
      }));
      this.#watchdog = new SeekWatchdog(host.media, { onStuck: this.#onSeekStuck });
      // A growing playlist starts at 0 (it may not reach a queued seek yet, and hls.js would then start at its live
      // edge); the queued seek lands once the playlist covers it.
      await engine.load({ url, startPosition: generating ? 0 : (this.#pendingSeek ?? 0) });
    } catch (cause) {
      if (signal.aborted) return;
      const code = streamErrorCode(cause);
      this.#fail(code, code === 'generation_failed' ? (cause as Error).message : undefined, undefined, cause);
    }
  }

  #client(): PlayerStreamClient | null {
    const host = this.#host;
    if (host.client) return host.client;
    if (!host.apiBase) return null;
    // The token is asked before every request: the element keeps the provider's token until the API rejects it.
    return (this.#ownClient ??= createStreamPlaybackClient({
      baseUrl: host.apiBase,
      getToken: this.#tokens.get,
    }));
  }

  #onStatus = (answer: StreamStatus): void => {
    if (answer.status === 'failed') {
      this.#emit(PlayerEventName.status, { status: 'failed', message: answer.error_message });
    }
    if (answer.status !== 'generating' || (answer.playable && answer.hls_url)) return;
    const progress = answer.progress ?? null;
    this.#show({ state: 'preparing', progress });
    this.#emit(PlayerEventName.status, { status: 'preparing', progress });
  };

  #onReloadNeeded = (reason: ReloadReason, snapshot: PlaybackSnapshot): void => {
    if (!this.#reloads.take()) {
      this.#fail(reloadErrorCode(reason), undefined, snapshot);
      return;
    }
    void this.#load(this.#pendingSeek ?? snapshot.position, snapshot.playing || this.#playOnReady);
  };

  #onSeekStuck = (target: number): void => {
    this.#fail('seek_stalled', undefined, {
      position: target,
      playing: this.#playOnReady || !this.#host.media.paused,
    });
  };

  #fail(code: PlayerErrorCode, detail?: string, snapshot?: PlaybackSnapshot, cause?: unknown): void {
    if (snapshot) {
      this.#pendingSeek ??= snapshot.position;
      this.#playOnReady ||= snapshot.playing;
    }
    this.#teardown();
    const error = playerError(code, detail, cause);
    this.#show({ error, state: 'error' });
    this.#emit(PlayerEventName.error, error);
    // The standard event too, as a `<video>` fires it (not bubbling; `onerror` and generic media code see it).
    this.#host.dispatchEvent(new Event('error'));
  }

  #emit(type: PlayerEventName, detail: NotetakerStatusDetail | NotetakerErrorDetail): void {
    this.#host.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /**
   * Applies the queued seek once the media is seekable. While the playlist still grows and does not reach the target
   * yet, the playhead waits at the end of what exists (the browser reports waiting) and the seek stays queued: hls.js
   * would answer a seek past the listed end by jumping back to its live edge.
   */
  #applyPendingSeek(): void {
    const video = this.#host.media;
    const target = this.#pendingSeek;
    const { seekable } = video;
    if (target === null || !this.#engine || !video.readyState || !seekable.length) return;
    const end = seekable.end(seekable.length - 1);
    if (this.#engine.live && target > end - SEEK_MARGIN) {
      const wait = Math.max(0, end - SEEK_MARGIN);
      if (video.currentTime < wait - 2 * SEEK_MARGIN) video.currentTime = wait;
    } else {
      this.#pendingSeek = null;
      if (Math.abs(video.currentTime - target) > 0.1) video.currentTime = target;
    }
    this.#show({ buffering: this.#bufferingNow() });
  }

  #bufferingNow(): boolean {
    const video = this.#host.media;
    return (
      (!video.paused && video.readyState < 3) || (this.#pendingSeek !== null && this.#view.state === 'ready')
    );
  }

  #onEngineChange = (): void => {
    const engine = this.#engine;
    if (!engine) return;
    if (!this.#updating && engine.levels.length > this.#quality && engine.level !== this.#quality) {
      engine.level = this.#quality;
    }
    this.#checkComplete();
    this.#options.onEngineChange?.();
    this.#applyPendingSeek();
    this.#host.requestUpdate();
  };

  /** Reports once that a playlist that was still growing when playback started is complete. */
  #checkComplete(): void {
    if (this.#generating && this.#host.media.readyState && !this.#engine?.live) {
      this.#generating = false;
      this.#emit(PlayerEventName.status, { status: 'ready', generating: false });
    }
  }

  async #autoplay(): Promise<void> {
    const host = this.#host;
    const video = host.media;
    if (host.autoplay === 'muted') video.muted = true;
    try {
      await video.play();
    } catch (error) {
      if (host.autoplay !== 'any' || (error as Error).name !== 'NotAllowedError' || video.muted) return;
      video.muted = true;
      await video.play().catch(() => undefined);
    }
  }
}
