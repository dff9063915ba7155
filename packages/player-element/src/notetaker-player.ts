import { LitElement, html, nothing, type PropertyValues } from 'lit';
import type { HlsConfig } from 'hls.js';
import {
  MEDIA_EVENTS,
  PlayerEventName,
  type AutoplayPolicy,
  type NotetakerErrorDetail,
  type NotetakerStatusDetail,
  type PlayerErrorCode,
  type PlayerState,
  type PreferPlayback,
} from './constants.js';
import { createStreamClient } from '@notetaker/client-sdk';
import { ControlBar } from './controls/control-bar.js';
import { chooseEngine, detectEngineEnvironment } from './engine/choose-engine.js';
import {
  createPlaybackEngine,
  type PlaybackEngine,
  type PlaybackSnapshot,
  type QualityLevel,
  type ReloadReason,
  type SubtitleRendition,
} from './engine/playback-engine.js';
import { playerStyles } from './player-styles.js';
import type { PlayerStreamClient, StreamStatus, TokenProvider } from './stream-client.js';

const MESSAGES: Record<PlayerErrorCode, string> = {
  unauthorized: 'Your session has expired. Sign in again.',
  not_found: 'This video is not available.',
  upload_incomplete: 'This video has not finished uploading.',
  generation_failed: 'This video could not be prepared.',
  network: 'The video service is unreachable. Check your connection.',
  playback_network: 'The video stopped loading. Check your connection.',
  playback_forbidden: 'Access to this video was refused.',
  media_decode: 'This video could not be decoded.',
  unsupported_browser: 'This browser cannot play this video.',
};

/** Reloads (fresh URL) allowed within a minute before the player gives up. */
const MAX_RELOADS_PER_MINUTE = 3;

/**
 * A queued seek lands once the growing playlist reaches this far past it; until then the playhead waits at the end
 * of what exists.
 */
const SEEK_MARGIN = 0.5;

/**
 * Marks the copies of the element's `<track>` children inside its video: hls.js adds `<track>` elements of its own
 * there for the stream's subtitle renditions, which the element must neither list twice nor remove.
 */
const HOST_TRACK = 'data-host-track';

/** A captions or subtitles choice: a `<track>` child or a subtitle rendition of the stream. */
export type CaptionTrack = SubtitleRendition;

/** `controls` values: `true` (the default) the element's control bar, `'native'` the browser's, `false` none. */
export type ControlsMode = boolean | 'native';

const RELOAD_ERROR: Record<ReloadReason, PlayerErrorCode> = {
  forbidden: 'playback_forbidden',
  network: 'playback_network',
  decode: 'media_decode',
};

/**
 * `<notetaker-player>` plays one Notetaker Stream video: it asks the API's `/stream` endpoint for the video,
 * shows a preparing state while HLS is generated, then plays with hls.js (or native HLS on Apple platforms),
 * recovers from network, media and expired-URL errors, and shows an error state with a Retry button.
 *
 * @example
 * <notetaker-player video-id="…" api-base="https://video.example.com" token="…"></notetaker-player>
 *
 * @fires notetaker-status - `CustomEvent<NotetakerStatusDetail>`: preparing (with progress), ready (again with
 *   `generating: false` once a playlist that was still growing is complete), failed.
 * @fires notetaker-error - `CustomEvent<NotetakerErrorDetail>`: playback stopped on an error (see `code`).
 * @fires play, pause, playing, timeupdate, … - the inner video's media events, dispatched again from the element.
 * @slot preparing - replaces the default "Preparing video" content.
 * @slot error - replaces the default error message (the Retry button stays).
 * @csspart video - the inner `<video>`.
 * @csspart overlay - the preparing and error overlays.
 * @csspart preparing - the preparing overlay.
 * @csspart progress - the preparing progress bar.
 * @csspart spinner - the loading/buffering indicator (also while preparing with unknown progress).
 * @csspart error - the error overlay.
 * @csspart error-message - the default error text.
 * @csspart retry-button - the Retry button.
 * @csspart controls - the control bar (see the reference for the parts inside it).
 * @cssprop --notetaker-player-aspect-ratio - box aspect ratio (default `16 / 9`).
 * @cssprop --notetaker-player-background - background behind the video (default `#000`).
 * @cssprop --notetaker-player-color - text colour of overlays (default `#fff`).
 * @cssprop --notetaker-player-accent-color - progress bar, spinner and button colour (default `#fff`).
 * @cssprop --notetaker-player-button-color - Retry button text colour (default `#000`).
 * @cssprop --notetaker-player-overlay-background - overlay background (default `rgb(0 0 0 / 0.8)`).
 * @cssprop --notetaker-player-font - overlay font shorthand.
 * @cssprop --notetaker-player-radius - corner radius (default `0`).
 * @cssprop --notetaker-player-object-fit - video `object-fit` (default `contain`).
 * @cssprop --notetaker-player-spinner-size - spinner size (default `2.5em`).
 * @cssprop --notetaker-player-controls-background - control bar background (a dark gradient).
 * @cssprop --notetaker-player-controls-color - control bar text and icon colour (default `#fff`).
 * @cssprop --notetaker-player-track-color - seek and volume track colour.
 * @cssprop --notetaker-player-buffered-color - buffered ranges on the seek bar.
 * @cssprop --notetaker-player-menu-background - menu background.
 */
export class NotetakerPlayerElement extends LitElement {
  static override styles = playerStyles;

  static override properties = {
    videoId: { attribute: 'video-id' },
    apiBase: { attribute: 'api-base' },
    token: {},
    getToken: { attribute: false },
    client: { attribute: false },
    startTime: { attribute: 'start-time', type: Number },
    autoplay: {
      converter: (value: string | null): AutoplayPolicy =>
        value === null ? false : value === 'muted' || value === 'any' ? value : true,
    },
    muted: { type: Boolean },
    loop: { type: Boolean },
    poster: {},
    preload: {},
    preferPlayback: { attribute: 'prefer-playback' },
    crossOrigin: { attribute: 'crossorigin' },
    controls: {
      converter: (value: string | null): ControlsMode =>
        value === 'native' ? value : value !== 'false' && value !== 'none',
    },
    storyboard: {},
    defaultCaptions: { attribute: 'default-captions' },
    hlsConfig: { attribute: false },
    _storyboardFromServer: { state: true },
    _posterFromServer: { state: true },
    _state: { state: true },
    _progress: { state: true },
    _error: { state: true },
    _buffering: { state: true },
  };

  /** Id (UUID) of the video to play. */
  declare videoId: string | null;
  /** Base URL of the Notetaker Stream API, e.g. `https://video.example.com`. */
  declare apiBase: string | null;
  /** User token (JWT) sent as `Authorization: Bearer`. Prefer `getToken` when tokens expire. */
  declare token: string | null;
  /** Returns a user token: called once, then again with `{ refresh: true }` when the API rejects it. */
  declare getToken: TokenProvider | null;
  /** A `/stream` client to use instead of one built from `api-base` and the token (e.g. the SDK's). */
  declare client: PlayerStreamClient | null;
  /** Seconds to start at; applied as soon as the video is seekable. */
  declare startTime: number | null;
  /** Start playing when ready: `true`/`''` (with sound if allowed), `'muted'`, or `'any'` (muted if needed). */
  declare autoplay: AutoplayPolicy;
  /** Mutes the video; follows the native controls' mute button. */
  declare muted: boolean;
  /** Plays again from the start at the end. */
  declare loop: boolean;
  /** Image shown until the first frame. */
  declare poster: string | null;
  /** `none` | `metadata` | `auto`, as on `<video>`. */
  declare preload: string | null;
  /** `mse` (hls.js) or `native` HLS, used when the browser has it; otherwise the element chooses. */
  declare preferPlayback: PreferPlayback | null;
  /** `anonymous` | `use-credentials`, set on the inner video. */
  declare crossOrigin: string | null;
  /**
   * `true` (default, also with no attribute): the element's control bar. `"native"`: the browser's controls.
   * `"none"` or `"false"` (attribute), `false` (property): no controls.
   */
  declare controls: ControlsMode;
  /** URL of a storyboard WebVTT (`#xywh=` cues into sprite images) for seek previews; wins over the server's. */
  declare storyboard: string | null;
  /** Language (BCP 47 tag or its prefix, e.g. `en`) of the captions to show at start. */
  declare defaultCaptions: string | null;
  /** hls.js settings merged over the element's defaults. */
  declare hlsConfig: Partial<HlsConfig> | null;

  declare private _state: PlayerState;
  declare private _progress: number | null;
  declare private _error: NotetakerErrorDetail | null;
  declare private _buffering: boolean;
  declare private _storyboardFromServer: string | null;
  declare private _posterFromServer: string | null;

  #video?: HTMLVideoElement;
  #engine: PlaybackEngine | null = null;
  #run: AbortController | null = null;
  #loadQueued = false;
  #ownClient: PlayerStreamClient | null = null;
  #tokenPromise: Promise<string> | null = null;
  /** Seek asked for before any load started; the next load consumes it. */
  #requestedSeek: number | null = null;
  /** Seek of the current load waiting for the media to be seekable. */
  #pendingSeek: number | null = null;
  #playOnReady = false;
  #resume: (PlaybackSnapshot & { id: string }) | null = null;
  #reloadTimes: number[] = [];
  #tracks: MutationObserver | null = null;
  /** The current load started from a `generating` answer and the end of its playlist was not seen yet. */
  #generating = false;
  #quality = -1;
  #captionsChosen = false;
  #bar = new ControlBar(this);

  constructor() {
    super();
    this.videoId = this.apiBase = this.token = this.poster = this.preload = null;
    this.preferPlayback = this.crossOrigin = this.startTime = null;
    this.getToken = this.client = this.hlsConfig = null;
    this.storyboard = this.defaultCaptions = this._storyboardFromServer = this._posterFromServer = null;
    this.autoplay = this.muted = this.loop = this._buffering = false;
    this.controls = true;
    this._state = 'idle';
    this._progress = this._error = null;
  }

  /** The inner `<video>`. */
  get media(): HTMLVideoElement {
    if (!this.#video) {
      const video = (this.#video = document.createElement('video'));
      video.setAttribute('part', 'video');
      video.playsInline = true;
      for (const type of MEDIA_EVENTS) video.addEventListener(type, this.#onMediaEvent);
    }
    return this.#video;
  }

  /** What the element shows: `idle`, `loading`, `preparing`, `ready` or `error` (also the `state` attribute). */
  get state(): PlayerState {
    return this._state;
  }

  /** The error the player stopped on, or `null`. */
  get error(): NotetakerErrorDetail | null {
    return this._error;
  }

  /** Generation progress (0–1) while preparing, when the server knows it. */
  get progress(): number | null {
    return this._progress;
  }

  /** Current position in seconds; a seek asked for before the video is seekable is reported until applied. */
  get currentTime(): number {
    const video = this.media;
    return (
      this.#requestedSeek ??
      this.#pendingSeek ??
      (video.readyState ? video.currentTime : (this.#resume?.position ?? (this.startTime || 0)))
    );
  }
  set currentTime(seconds: number) {
    if (this.#run && !this.#loadQueued) {
      this.#pendingSeek = seconds;
      this.#applyPendingSeek();
    } else this.#requestedSeek = seconds;
  }

  /**
   * Seconds. While the video is still being generated (`growing`), the length generated so far; `NaN` before
   * metadata. With native HLS a growing playlist reports `Infinity`.
   */
  get duration(): number {
    return this.media.duration;
  }

  /**
   * `true` while the playlist is still growing (the server is generating the video and playback started early):
   * `duration` is what exists so far; seeks past it wait until it exists.
   */
  get growing(): boolean {
    return !!this.#engine?.live;
  }

  /** Playback speed; kept across reloads. */
  get playbackRate(): number {
    return this.media.playbackRate;
  }
  set playbackRate(rate: number) {
    const video = this.media;
    video.defaultPlaybackRate = video.playbackRate = rate;
  }

  /** Renditions to choose from (hls.js only; empty with native HLS or a single-rendition stream). */
  get qualityLevels(): readonly QualityLevel[] {
    return this.#engine?.levels ?? [];
  }

  /** Chosen rendition (index into `qualityLevels`), or -1 for automatic; kept across reloads. */
  get qualityLevel(): number {
    return this.#quality;
  }
  set qualityLevel(index: number) {
    this.#quality = index;
    if (this.#engine) this.#engine.level = index;
    this.requestUpdate();
  }

  /** The rendition playing now (index into `qualityLevels`), or -1. */
  get activeQualityLevel(): number {
    return this.#engine?.activeLevel ?? -1;
  }

  /** Captions and subtitles to choose from: `<track>` children first, then the stream's subtitle renditions. */
  get captionTracks(): readonly CaptionTrack[] {
    return [
      ...this.#textTracks().map(({ label, language }) => ({ label, language })),
      ...(this.#engine?.subtitles ?? []),
    ];
  }

  /** Index into `captionTracks` of the captions shown, or -1 for none. */
  get captionTrack(): number {
    const own = this.#textTracks();
    const shown = own.findIndex((track) => track.mode === 'showing');
    const stream = this.#engine?.subtitle ?? -1;
    return shown >= 0 ? shown : stream >= 0 ? own.length + stream : -1;
  }
  set captionTrack(index: number) {
    this.#captionsChosen = true;
    this.#showCaptions(index);
  }

  get paused(): boolean {
    return this.media.paused;
  }

  get ended(): boolean {
    return this.media.ended;
  }

  get volume(): number {
    return this.media.volume;
  }
  set volume(value: number) {
    this.media.volume = value;
  }

  /** Plays; before the media is ready, playback is queued and starts as soon as it can. */
  play(): Promise<void> {
    if (this._state === 'ready') return this.media.play();
    this.#playOnReady = true;
    return Promise.resolve();
  }

  pause(): void {
    this.#playOnReady = false;
    this.media.pause();
  }

  /** Tries again after an error: asks `/stream` again (or restarts a failed generation) and resumes in place. */
  retry(): void {
    const focused = !!this.shadowRoot?.activeElement;
    this.#reloadTimes = [];
    void this.#load(this.currentTime, this.#playOnReady, this._error?.code === 'generation_failed');
    if (focused) void this.updateComplete.then(() => this.media.focus({ preventScroll: true }));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#tracks = new MutationObserver(this.#syncTracks);
    this.#tracks.observe(this, { childList: true, subtree: true, attributes: true });
    this.#syncTracks();
    if (this.hasUpdated) this.#requestLoad();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#tracks?.disconnect();
    this.#tracks = null;
    const video = this.media;
    if (this.videoId && this.#engine && video.readyState > 0) {
      this.#resume = { id: this.videoId, position: video.currentTime, playing: !video.paused };
    }
    this.#teardown();
  }

  protected override render() {
    const state = this._state;
    const progress = this._progress;
    return html`${this.media}
      ${
        state === 'preparing'
          ? html`<div part="overlay preparing" class="overlay">
              <slot name="preparing">
                <p>Preparing video…</p>
                ${
                  progress === null
                    ? html`<div part="spinner" role="progressbar" aria-label="Preparing video"></div>`
                    : html`<div
                        part="progress"
                        role="progressbar"
                        aria-label="Preparing video"
                        aria-valuenow=${Math.round(progress * 100)}
                      >
                        <div style="transform:scaleX(${progress})"></div>
                      </div>`
                }
              </slot>
            </div>`
          : nothing
      }
      ${
        state === 'loading' || (state === 'ready' && this._buffering)
          ? html`<div class="overlay loading">
              <div part="spinner" role="progressbar" aria-label="Loading video"></div>
            </div>`
          : nothing
      }
      ${
        state === 'error'
          ? html`<div part="overlay error" class="overlay">
              <div role="alert">
                <slot name="error"><p part="error-message">${this._error?.message}</p></slot>
              </div>
              <button part="retry-button" type="button" @click=${this.retry}>Retry</button>
            </div>`
          : nothing
      }
      ${this.controls === true && state !== 'preparing' && state !== 'error' ? this.#bar.render() : nothing}
      <div class="sr" role="status">${state === 'preparing' ? 'Preparing video' : ''}</div>`;
  }

  protected override updated(changed: PropertyValues): void {
    const video = this.media;
    const blocked = this._state === 'preparing' || this._state === 'error';
    video.controls = this.controls === 'native' && !blocked;
    setAttribute(video, 'tabindex', this.controls === true ? '-1' : null);
    this.#bar.storyboard = this.storyboard || this._storyboardFromServer;
    if (changed.has('defaultCaptions')) this.#applyDefaultCaptions();
    video.loop = this.loop;
    video.inert = blocked;
    setAttribute(video, 'poster', this.poster || this._posterFromServer);
    setAttribute(video, 'preload', this.preload);
    setAttribute(video, 'crossorigin', this.crossOrigin);
    if (changed.has('muted')) video.muted = this.muted;
    if (changed.has('_state')) {
      this.setAttribute('state', this._state);
      if (this._state === 'error' && this.shadowRoot?.activeElement) {
        this.renderRoot.querySelector('button')?.focus();
      }
    }
    if (changed.has('apiBase')) this.#ownClient = null;
    if (changed.has('token') || changed.has('getToken')) {
      this.#tokenPromise = null;
      if (this._error?.code === 'unauthorized') this.#requestLoad();
    }
    if (
      changed.has('videoId') ||
      changed.has('apiBase') ||
      changed.has('client') ||
      changed.has('preferPlayback')
    ) {
      this.#requestLoad();
    }
  }

  /** Coalesces load requests on a microtask, so the order in which attributes arrive never matters. */
  #requestLoad(): void {
    if (this.#loadQueued) return;
    this.#loadQueued = true;
    queueMicrotask(() => {
      this.#loadQueued = false;
      if (!this.isConnected) return;
      const resume = this.#resume?.id === this.videoId ? this.#resume : null;
      this.#resume = null;
      const play = resume ? resume.playing : this.#playOnReady || this.autoplay !== false;
      void this.#load(resume?.position ?? null, play);
    });
  }

  #teardown(): void {
    this.#run?.abort();
    this.#run = null;
    this.#engine?.destroy();
    this.#engine = null;
    this._buffering = false;
  }

  async #load(at: number | null, play: boolean, restartFailed = false): Promise<void> {
    this.#teardown();
    const run = (this.#run = new AbortController());
    const { signal } = run;
    const id = this.videoId;
    at ??= this.#requestedSeek ?? (this.startTime || null);
    this.#requestedSeek = null;
    this.#pendingSeek = at;
    this.#playOnReady = play;
    this._error = null;
    this._progress = null;
    this._storyboardFromServer = this._posterFromServer = null;
    this.#generating = this.#captionsChosen = false;
    const client = this.#client();
    if (!id || !client) {
      this._state = 'idle';
      return;
    }
    this._state = 'loading';
    const kind = chooseEngine(detectEngineEnvironment(this.media), this.preferPlayback);
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
      const generating = (this.#generating = answer.status === 'generating');
      const images = answer as { storyboard_url?: string; poster_url?: string };
      this._storyboardFromServer = images.storyboard_url ?? null;
      this._posterFromServer = images.poster_url ?? null;
      this.#emit(PlayerEventName.status, { status: 'ready', generating });
      this._state = 'loading';
      const engine = (this.#engine = createPlaybackEngine({
        video: this.media,
        kind,
        hlsConfig: this.hlsConfig ?? undefined,
        onReloadNeeded: this.#onReloadNeeded,
        onFatal: (code, message, snapshot, cause) => this.#fail(code, message, snapshot, cause),
        onChange: this.#onEngineChange,
      }));
      // A growing playlist starts at 0 (it may not reach a queued seek yet, and hls.js would then start at its live
      // edge); the queued seek lands once the playlist covers it.
      await engine.load({ url, startPosition: generating ? 0 : (this.#pendingSeek ?? 0) });
    } catch (cause) {
      if (signal.aborted) return;
      const code = errorCode(cause);
      this.#fail(code, code === 'generation_failed' ? (cause as Error).message : undefined, undefined, cause);
    }
  }

  #client(): PlayerStreamClient | null {
    if (this.client) return this.client;
    if (!this.apiBase) return null;
    return (this.#ownClient ??= createStreamClient({
      baseUrl: this.apiBase,
      // Asked before every request: the element keeps the provider's token until the API rejects it.
      getToken: ({ refresh }) => {
        if (!this.getToken) return this.token ?? '';
        if (refresh) this.#tokenPromise = null;
        const pending = (this.#tokenPromise ??= Promise.resolve(this.getToken({ refresh })));
        pending.catch(() => {
          if (this.#tokenPromise === pending) this.#tokenPromise = null;
        });
        return pending;
      },
    }));
  }

  #onStatus = (answer: StreamStatus): void => {
    if (answer.status === 'failed') {
      this.#emit(PlayerEventName.status, { status: 'failed', message: answer.error_message });
    }
    if (answer.status !== 'generating' || (answer.playable && answer.hls_url)) return;
    this._state = 'preparing';
    this._progress = answer.progress ?? null;
    this.#emit(PlayerEventName.status, { status: 'preparing', progress: this._progress });
  };

  #onReloadNeeded = (reason: ReloadReason, snapshot: PlaybackSnapshot): void => {
    const now = performance.now();
    this.#reloadTimes = this.#reloadTimes.filter((time) => now - time < 60_000);
    if (this.#reloadTimes.push(now) > MAX_RELOADS_PER_MINUTE) {
      this.#fail(RELOAD_ERROR[reason], undefined, snapshot);
      return;
    }
    void this.#load(this.#pendingSeek ?? snapshot.position, snapshot.playing || this.#playOnReady);
  };

  #fail(code: PlayerErrorCode, detail?: string, snapshot?: PlaybackSnapshot, cause?: unknown): void {
    if (snapshot) {
      this.#pendingSeek ??= snapshot.position;
      this.#playOnReady ||= snapshot.playing;
    }
    this.#teardown();
    const error: NotetakerErrorDetail = {
      code,
      message: detail ? `${MESSAGES[code]} ${detail}` : MESSAGES[code],
    };
    if (cause !== undefined) error.cause = cause;
    this._error = error;
    this._state = 'error';
    this.#emit(PlayerEventName.error, error);
  }

  #emit(type: PlayerEventName, detail: NotetakerStatusDetail | NotetakerErrorDetail): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /**
   * Applies the queued seek once the media is seekable. While the playlist still grows and does not reach the target
   * yet, the playhead waits at the end of what exists (the browser reports waiting) and the seek stays queued: hls.js
   * would answer a seek past the listed end by jumping back to its live edge.
   */
  #applyPendingSeek(): void {
    const video = this.media;
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
    this._buffering = this.#bufferingNow();
  }

  #bufferingNow(): boolean {
    const video = this.media;
    return (!video.paused && video.readyState < 3) || (this.#pendingSeek !== null && this._state === 'ready');
  }

  #onEngineChange = (): void => {
    const engine = this.#engine;
    if (!engine) return;
    if (engine.levels.length > this.#quality && engine.level !== this.#quality) engine.level = this.#quality;
    this.#checkComplete();
    // After hls.js's own handling of the event: it picks its default subtitle track right after announcing them.
    queueMicrotask(() => this.#applyDefaultCaptions());
    this.#applyPendingSeek();
    this.requestUpdate();
  };

  /** Reports once that a playlist that was still growing when playback started is complete. */
  #checkComplete(): void {
    if (this.#generating && this.media.readyState && !this.#engine?.live) {
      this.#generating = false;
      this.#emit(PlayerEventName.status, { status: 'ready', generating: false });
    }
  }

  #textTracks(): TextTrack[] {
    return [...this.media.querySelectorAll<HTMLTrackElement>(`track[${HOST_TRACK}]`)]
      .map((element) => element.track)
      .filter((track) => track.kind === 'captions' || track.kind === 'subtitles');
  }

  #showCaptions(index: number): void {
    const own = this.#textTracks();
    own.forEach((track, i) => (track.mode = i === index ? 'showing' : 'disabled'));
    if (this.#engine) this.#engine.subtitle = index < own.length ? -1 : index - own.length;
    this.requestUpdate();
  }

  /**
   * Shows the `default-captions` track until it is seen showing; from then on captions are the viewer's to change.
   * hls.js picks its own subtitle track when it groups its tracks, so this runs again on engine changes.
   */
  #applyDefaultCaptions(): void {
    const language = this.defaultCaptions?.toLowerCase();
    if (!language || this.#captionsChosen) return;
    const index = this.captionTracks.findIndex((track) => track.language.toLowerCase().startsWith(language));
    if (index < 0) return;
    if (this.captionTrack === index) this.#captionsChosen = true;
    else this.#showCaptions(index);
  }

  #onMediaEvent = (event: Event): void => {
    const video = this.media;
    const { type } = event;
    if (this.#engine) {
      this.#applyPendingSeek();
      this.#checkComplete();
      if (type === 'canplay' && this._state === 'loading') {
        this._state = 'ready';
        if (this.#playOnReady) {
          this.#playOnReady = false;
          void this.#autoplay();
        }
      }
    }
    if (type === 'volumechange') this.muted = video.muted;
    this._buffering = this.#bufferingNow();
    this.dispatchEvent(new Event(type));
  };

  async #autoplay(): Promise<void> {
    const video = this.media;
    if (this.autoplay === 'muted') video.muted = true;
    try {
      await video.play();
    } catch (error) {
      if (this.autoplay !== 'any' || (error as Error).name !== 'NotAllowedError' || video.muted) return;
      video.muted = true;
      await video.play().catch(() => undefined);
    }
  }

  #syncTracks = (records?: MutationRecord[]): void => {
    // Only the `<track>` children and their attributes matter, not the element's own (it sets `state` itself).
    if (records?.every((record) => record.target === this && record.type === 'attributes')) return;
    const video = this.media;
    for (const track of video.querySelectorAll(`track[${HOST_TRACK}]`)) track.remove();
    for (const track of this.querySelectorAll(':scope > track')) {
      const copy = track.cloneNode(true) as HTMLTrackElement;
      copy.setAttribute(HOST_TRACK, '');
      video.append(copy);
      // A track whose mode was set is left alone by the browser's automatic caption choice, which Chromium runs
      // again whenever a track is added (hls.js adds its own): it would show this one beside the one chosen here.
      // A `default` track is the browser's to show.
      if (!copy.default) {
        copy.track.mode = 'hidden';
        copy.track.mode = 'disabled';
      }
    }
    this.#captionsChosen = false;
    this.#applyDefaultCaptions();
    this.requestUpdate();
  };
}

function setAttribute(element: Element, name: string, value: string | null): void {
  if (value === null || value === undefined) element.removeAttribute(name);
  else if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

/** Maps an error of the `/stream` client (or of loading hls.js) to a player error code. */
function errorCode(error: unknown): PlayerErrorCode {
  const { status, code } = (error ?? {}) as { status?: number; code?: string };
  if (code === 'stream_failed') return 'generation_failed';
  if (status === 401 || code === 'unauthorized') return 'unauthorized';
  if (status === 404 || code === 'not_found') return 'not_found';
  if (code === 'upload_incomplete') return 'upload_incomplete';
  return 'network';
}

declare global {
  interface HTMLElementTagNameMap {
    'notetaker-player': NotetakerPlayerElement;
  }
  interface HTMLElementEventMap {
    'notetaker-status': CustomEvent<NotetakerStatusDetail>;
    'notetaker-error': CustomEvent<NotetakerErrorDetail>;
  }
}
