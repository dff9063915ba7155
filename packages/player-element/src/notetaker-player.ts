import { LitElement, html, nothing, type PropertyValues } from 'lit';
import type { HlsConfig } from 'hls.js';
import {
  MEDIA_EVENTS,
  type AutoplayPolicy,
  type NotetakerErrorDetail,
  type NotetakerStatusDetail,
  type NotetakerTracksChangeDetail,
  type PlayerState,
  type PreferPlayback,
} from './constants.js';
import { AnalyticsController } from './analytics/analytics-controller.js';
import type { HeatmapController } from './analytics/heatmap-controller.js';
import { CaptionsController, type CaptionTrack } from './captions/captions-controller.js';
import { ChaptersController, type NotetakerChapterChangeDetail } from './chapters/chapters-controller.js';
import type { PlayerChapter } from './chapters/chapters-vtt.js';
import type { NotetakerMarkerClickDetail, PlayerMarker } from './markers/timeline-marks.js';
import { ControlBar } from './controls/control-bar.js';
import type { ControlsMode, PlayerControlsHost } from './controls/player-controls-host.js';
import type { QualityLevel } from './engine/playback-engine.js';
import { playerStyles } from './player-styles.js';
import { RefreshSchedule } from './stream/refresh-schedule.js';
import { StreamController, type StreamHost } from './stream/stream-controller.js';
import type { PlayerStreamClient, TokenProvider } from './stream-client.js';

export type { CaptionTrack, ControlsMode, PlayerChapter, PlayerMarker };

/**
 * `<notetaker-player>` plays one Notetaker Stream video: it asks the API's `/stream` endpoint for the video,
 * shows a preparing state while HLS is generated, then plays with hls.js (or native HLS on Apple platforms),
 * recovers from network, media and expired-URL errors, and shows an error state with a Retry button.
 *
 * @example
 * <notetaker-player video-id="…" api-base="https://video.example.com" token="…"></notetaker-player>
 *
 * The inner video's media events (`play`, `pause`, `playing`, `timeupdate`, … see `MEDIA_EVENTS`) are dispatched
 * again from the element.
 *
 * @tagname notetaker-player
 * @fires notetaker-status - `CustomEvent<NotetakerStatusDetail>`: preparing (with progress), ready (again with
 *   `generating: false` once a playlist that was still growing is complete), failed.
 * @fires notetaker-error - `CustomEvent<NotetakerErrorDetail>`: playback stopped on an error (see `code`).
 * @fires notetaker-chapterchange - `CustomEvent<NotetakerChapterChangeDetail>`: playback entered another chapter.
 * @fires notetaker-markerclick - `CustomEvent<NotetakerMarkerClickDetail>`: a marker was clicked (the player seeks
 *   there).
 * @fires notetaker-trackschange - `CustomEvent<NotetakerTracksChangeDetail>`: a re-check of the stream (`refresh()`,
 *   or the player's own while playing) brought other renditions, caption tracks or chapters; playback went on.
 * @fires error - `Event`, as `<video>` fires it: playback stopped on an error; `element.error` holds the detail.
 * @slot preparing - replaces the default "Preparing video" content.
 * @slot error - replaces the default error message (the Retry button stays).
 * @csspart video - The inner `<video>`.
 * @csspart overlay - The preparing and error overlays (both).
 * @csspart preparing - The preparing overlay.
 * @csspart progress - The preparing progress bar (when progress is known).
 * @csspart spinner - The loading/buffering spinner (also while preparing without a known progress).
 * @csspart error - The error overlay.
 * @csspart error-message - The default error text.
 * @csspart retry-button - The Retry button.
 * @csspart controls - The bar (a `group` named "Video controls"). It has `data-idle` while hidden.
 * @csspart seek-bar - The seek slider; `data-growing` while the video is still being generated.
 * @csspart seek-buffered - One per buffered range, inside the seek bar's track.
 * @csspart seek-progress - The played part of the track.
 * @csspart seek-thumb - The handle.
 * @csspart preview - The box over the seek bar while hovering or dragging: thumbnail and time.
 * @csspart preview-image - The storyboard thumbnail (only with a storyboard).
 * @csspart preview-time - The time under the pointer.
 * @csspart heatmap - With `show-heatmap`, for the owner: a strip above the seek bar, darker where more of the
 *   audience watched.
 * @csspart preview-chapter - The title of the chapter under the pointer (only with chapters).
 * @csspart chapter-marker - A chapter boundary inside the seek bar's track (one per chapter after the first).
 * @csspart marker - A note marker: a button over the seek bar, one per entry of `markers`.
 * @csspart marker-label - A marker's label (time and text), shown on hover and keyboard focus.
 * @csspart button - Every button of the bar (also the menu buttons).
 * @csspart play-button - The play/pause button.
 * @csspart mute-button - The mute button.
 * @csspart pip-button - The picture-in-picture button (only where the browser has the API).
 * @csspart fullscreen-button - The fullscreen button.
 * @csspart volume-slider - The volume slider (hidden when the player is narrower than 30em).
 * @csspart time-display - `0:42 / 3:10` (`3:10…` while the video is still being generated).
 * @csspart captions-button - The captions menu button (only with captions); `data-on` while captions show.
 * @csspart rate-button - The playback-rate menu button (hidden below 30em).
 * @csspart quality-button - The quality menu button (only with two renditions or more).
 * @csspart chapters-button - The chapters menu button (only with chapters).
 * @csspart menu - An open menu.
 * @csspart menu-item - A choice in a menu (`aria-checked="true"` on the current one).
 * @cssprop --notetaker-player-aspect-ratio - Box ratio; the element is `display: block`, full width (default
 *   `16 / 9`).
 * @cssprop --notetaker-player-background - Behind the video (default `#000`).
 * @cssprop --notetaker-player-color - Overlay text (default `#fff`).
 * @cssprop --notetaker-player-accent-color - Progress bars, seek and volume fill, handle, spinner, Retry button
 *   background, focus ring (default `#fff`).
 * @cssprop --notetaker-player-button-color - Retry button text (default `#000`).
 * @cssprop --notetaker-player-overlay-background - Preparing and error overlays (default `rgb(0 0 0 / 0.8)`).
 * @cssprop --notetaker-player-font - `font` shorthand of overlays and the control bar (its sizes are in `em`)
 *   (default `15px/1.4 system-ui, sans-serif`).
 * @cssprop --notetaker-player-radius - Corner radius (default `0`).
 * @cssprop --notetaker-player-object-fit - Video `object-fit` (default `contain`).
 * @cssprop --notetaker-player-spinner-size - Spinner size (default `2.5em`).
 * @cssprop --notetaker-player-controls-background - Control bar background (default `linear-gradient(transparent,
 *   rgb(0 0 0 / 0.75))`).
 * @cssprop --notetaker-player-controls-color - Control bar text and icons (default `#fff`).
 * @cssprop --notetaker-player-track-color - Seek and volume tracks (default `rgb(255 255 255 / 0.3)`).
 * @cssprop --notetaker-player-buffered-color - Buffered ranges on the seek bar (default `rgb(255 255 255 / 0.45)`).
 * @cssprop --notetaker-player-menu-background - Menus (default `rgb(28 28 28 / 0.95)`).
 * @cssprop --notetaker-player-marker-color - Note markers (default `#fbbf24`).
 * @cssprop --notetaker-player-chapter-gap-color - Chapter boundaries on the seek bar (default `rgb(0 0 0 / 0.6)`).
 */
export class NotetakerPlayerElement extends LitElement implements PlayerControlsHost, StreamHost {
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
    markers: { attribute: false },
    disableAnalytics: { attribute: 'disable-analytics', type: Boolean },
    showHeatmap: { attribute: 'show-heatmap', type: Boolean },
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
  /**
   * Notes to show on the seek bar: `[{ time, label, id? }]` (seconds). Each is a button: a click seeks there and fires
   * `notetaker-markerclick`. Set a new array to change them.
   */
  declare markers: readonly PlayerMarker[];
  /** Turns off the viewing reports the player sends to the server for its owner's watch analytics. */
  declare disableAnalytics: boolean;
  /**
   * Shows the owner's audience heatmap above the seek bar: the player asks the server for the video's analytics with
   * the user's token, which only the owner may read (others see no strip).
   */
  declare showHeatmap: boolean;

  #video?: HTMLVideoElement;
  #bar = new ControlBar(this);
  #captions = new CaptionsController(this, () => this.#stream.engine);
  #chapters = new ChaptersController(this);
  #analytics = new AnalyticsController(this);
  /** Loaded on the first update with `show-heatmap` (owners' pages only), like hls.js. */
  #heatmap: HeatmapController | null = null;
  #heatmapLoading = false;
  #schedule = new RefreshSchedule(this, () => this.#recheck());
  #stream = new StreamController(this, {
    onLoad: () => {
      this.#captions.reset();
      this.#schedule.reset();
    },
    onEngineChange: () => this.#captions.streamChanged(),
    onStream: (url) => this.#analytics.streamStarted(url),
  });

  constructor() {
    super();
    this.videoId = this.apiBase = this.token = this.poster = this.preload = null;
    this.preferPlayback = this.crossOrigin = this.startTime = null;
    this.getToken = this.client = this.hlsConfig = null;
    this.storyboard = this.defaultCaptions = null;
    this.autoplay = this.muted = this.loop = false;
    this.controls = true;
    this.markers = [];
    this.disableAnalytics = this.showHeatmap = false;
    // The first update reflects the initial state; later changes come from the stream controller.
    this.requestUpdate('state');
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
    return this.#stream.view.state;
  }

  /** The error the player stopped on, or `null`. */
  get error(): NotetakerErrorDetail | null {
    return this.#stream.view.error;
  }

  /** Generation progress (0–1) while preparing, when the server knows it. */
  get progress(): number | null {
    return this.#stream.view.progress;
  }

  /** Current position in seconds; a seek asked for before the video is seekable is reported until applied. */
  get currentTime(): number {
    return this.#stream.currentTime;
  }
  set currentTime(seconds: number) {
    this.#stream.currentTime = seconds;
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
    return !!this.#stream.engine?.live;
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
    return this.#stream.engine?.levels ?? [];
  }

  /** Chosen rendition (index into `qualityLevels`), or -1 for automatic; kept across reloads. */
  get qualityLevel(): number {
    return this.#stream.quality;
  }
  set qualityLevel(index: number) {
    this.#stream.quality = index;
  }

  /** The rendition playing now (index into `qualityLevels`), or -1. */
  get activeQualityLevel(): number {
    return this.#stream.engine?.activeLevel ?? -1;
  }

  /** Captions and subtitles to choose from: `<track>` children first, then the stream's subtitle renditions. */
  get captionTracks(): readonly CaptionTrack[] {
    return this.#captions.tracks;
  }

  /** Index into `captionTracks` of the captions shown, or -1 for none. */
  get captionTrack(): number {
    return this.#captions.track;
  }
  set captionTrack(index: number) {
    this.#captions.track = index;
  }

  /** The video's chapters (from the server's chapters track), sorted by start; empty when it has none. */
  get chapters(): readonly PlayerChapter[] {
    return this.#chapters.chapters;
  }

  /** Index into `chapters` of the chapter playing now, or -1. */
  get currentChapter(): number {
    return this.#chapters.current;
  }

  /** The owner's audience retention per second (`show-heatmap`), as the heatmap strip shows it; empty for none. */
  get heatmap(): readonly number[] {
    return this.#heatmap?.retention ?? [];
  }

  /** Seeks to `marker` (queued until the video can seek there) and fires `notetaker-markerclick`. */
  selectMarker(marker: PlayerMarker): void {
    this.currentTime = marker.time;
    const detail: NotetakerMarkerClickDetail = { marker };
    this.dispatchEvent(new CustomEvent('notetaker-markerclick', { detail, bubbles: true, composed: true }));
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
    return this.#stream.play();
  }

  pause(): void {
    this.#stream.pause();
  }

  /** Tries again after an error: asks `/stream` again (or restarts a failed generation) and resumes in place. */
  retry(): void {
    const focused = !!this.shadowRoot?.activeElement;
    this.#stream.retry();
    if (focused) void this.updateComplete.then(() => this.media.focus({ preventScroll: true }));
  }

  /**
   * Asks the server again about the video playing and picks up what arrived since it loaded — another rendition
   * (quality), caption tracks, chapters — without a restart: position, paused state, the chosen quality and the
   * captions shown are kept. Fires `notetaker-trackschange` when something changed, and resolves to whether it did.
   * Call it when your server tells you (e.g. the `video.rendition.ready` or `video.captions.updated` webhook); while
   * playing, the player also looks on its own (see the reference).
   */
  async refresh(): Promise<boolean> {
    return !!(await this.#recheck());
  }

  /** One re-check: whether something changed, or null when there was nothing to check. */
  async #recheck(): Promise<boolean | null> {
    const lists = () =>
      [this.qualityLevels, this.captionTracks, this.chapters].map((list) => JSON.stringify(list));
    const before = lists();
    const checked = await this.#stream.refresh().catch(() => null);
    if (checked !== null) await this.#chapters.load(this.#stream.view.chaptersUrl);
    const [qualityLevels = false, captionTracks = false, chapters = false] = lists().map(
      (list, i) => list !== before[i],
    );
    const changed = checked === null ? null : qualityLevels || captionTracks || chapters;
    this.#schedule.checked(changed);
    if (changed) {
      const detail: NotetakerTracksChangeDetail = {
        qualityLevels,
        captionTracks,
        chapters,
      };
      this.dispatchEvent(
        new CustomEvent('notetaker-trackschange', { detail, bubbles: true, composed: true }),
      );
    }
    return changed;
  }

  protected override render() {
    const { state, progress, buffering, error } = this.#stream.view;
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
        state === 'loading' || (state === 'ready' && buffering)
          ? html`<div class="overlay loading">
              <div part="spinner" role="progressbar" aria-label="Loading video"></div>
            </div>`
          : nothing
      }
      ${
        state === 'error'
          ? html`<div part="overlay error" class="overlay">
              <div role="alert">
                <slot name="error"><p part="error-message">${error?.message}</p></slot>
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
    const { state, storyboardUrl, posterUrl } = this.#stream.view;
    const blocked = state === 'preparing' || state === 'error';
    video.controls = this.controls === 'native' && !blocked;
    setAttribute(video, 'tabindex', this.controls === true ? '-1' : null);
    this.#bar.storyboard = this.storyboard || storyboardUrl;
    this.#chapters.url = this.#stream.view.chaptersUrl;
    if (changed.has('defaultCaptions')) this.#captions.applyDefault();
    if (this.showHeatmap && !this.#heatmapLoading) {
      this.#heatmapLoading = true;
      import('./analytics/heatmap-controller.js').then(
        ({ HeatmapController, heatmapBackground }) => {
          this.#heatmap = new HeatmapController(this);
          this.#bar.heatmapBackground = heatmapBackground;
          this.requestUpdate();
        },
        () => undefined,
      );
    }
    video.loop = this.loop;
    video.inert = blocked;
    setAttribute(video, 'poster', this.poster || posterUrl);
    setAttribute(video, 'preload', this.preload);
    setAttribute(video, 'crossorigin', this.crossOrigin);
    if (changed.has('muted')) video.muted = this.muted;
    if (changed.has('state')) {
      this.setAttribute('state', state);
      if (state === 'error' && this.shadowRoot?.activeElement) {
        this.renderRoot.querySelector('button')?.focus();
      }
    }
    this.#stream.propertiesChanged(changed);
  }

  #onMediaEvent = (event: Event): void => {
    const { type } = event;
    this.#stream.handleMediaEvent(type);
    if (type === 'volumechange') this.muted = this.media.muted;
    this.dispatchEvent(new Event(type));
  };
}

function setAttribute(element: Element, name: string, value: string | null): void {
  if (value === null || value === undefined) element.removeAttribute(name);
  else if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

declare global {
  interface HTMLElementTagNameMap {
    'notetaker-player': NotetakerPlayerElement;
  }
  interface HTMLElementEventMap {
    'notetaker-status': CustomEvent<NotetakerStatusDetail>;
    'notetaker-error': CustomEvent<NotetakerErrorDetail>;
    'notetaker-chapterchange': CustomEvent<NotetakerChapterChangeDetail>;
    'notetaker-markerclick': CustomEvent<NotetakerMarkerClickDetail>;
    'notetaker-trackschange': CustomEvent<NotetakerTracksChangeDetail>;
  }
}
