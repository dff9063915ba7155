import { html, nothing, type ReactiveController, type TemplateResult } from 'lit';
import { MEDIA_EVENTS } from '../constants.js';
import { formatTime, spokenTime } from './format-time.js';
import type { PlayerControlsHost } from './player-controls-host.js';
import { findStoryboardCue, loadStoryboard, type StoryboardCue } from './storyboard.js';
import { chapterIndexAt } from '../chapters/chapter-index.js';
import { renderChapterMarkers, renderMarkers } from '../markers/timeline-marks.js';

const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2];
/** Seconds moved by ←/→ (and by the arrow keys on the seek bar). */
const SEEK_STEP = 5;
const VOLUME_STEP = 0.05;
/** The bar hides after this long without pointer or keyboard activity while playing. */
const IDLE_MS = 2500;

type MenuName = 'chapters' | 'captions' | 'rate' | 'quality';
interface MenuItem {
  label: string;
  checked: boolean;
  select(): void;
}

const ICONS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
  volume: 'M3 9v6h4l5 5V4L7 9zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z',
  muted:
    'M3 9v6h4l5 5V4L7 9zm12.4.6 1.4-1.4 2.2 2.2 2.2-2.2 1.4 1.4-2.2 2.2 2.2 2.2-1.4 1.4-2.2-2.2-2.2 2.2-1.4-1.4 2.2-2.2z',
  pip: 'M2 4h20v16H2zm2 2v12h16V6zm7 5h7v5h-7z',
  enter: 'M4 4h6v2H6v4H4zm10 0h6v6h-2V6h-4zM4 14h2v4h4v2H4zm14 0h2v6h-6v-2h4z',
  exit: 'M8 4h2v6H4V8h4zm6 0h2v4h4v2h-6zM4 14h6v6H8v-4H4zm10 0h6v2h-4v4h-2z',
} as const;

const icon = (d: string) =>
  html`<svg viewBox="0 0 24 24" aria-hidden="true" fill-rule="evenodd"><path d=${d}></path></svg>`;

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** Position of a pointer along `element`, 0–1. */
const fractionAt = (event: PointerEvent) => {
  const box = (event.currentTarget as Element).getBoundingClientRect();
  return clamp((event.clientX - box.left) / box.width, 0, 1);
};

const isTyping = (target: HTMLElement) =>
  target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);

/**
 * The player's control bar: it renders into the player element's shadow root and drives the element through
 * its public API (play, pause, currentTime, volume, muted, playbackRate, captionTrack, qualityLevel), as described by
 * `PlayerControlsHost`. It owns the UI state only: open menu, seek preview, idle hiding, storyboard cues, keyboard
 * shortcuts.
 */
export class ControlBar implements ReactiveController {
  #host: PlayerControlsHost;
  #menu: MenuName | null = null;
  /** Time under the pointer on the seek bar (hover or drag), or null. */
  #preview: number | null = null;
  #previewX = 0;
  #barWidth = 0;
  #dragging = false;
  #idle = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * The click on the video that follows this press must not toggle playback: the press closed a menu, or was a
   * touch on a hidden bar (which only shows it).
   */
  #swallowClick = false;
  #lastCaptions = -1;
  #storyboardUrl: string | null = null;
  #cues: StoryboardCue[] = [];
  #storyboardLoad: AbortController | null = null;
  /** The `show-heatmap` strip's background for a retention curve; set by the player once it has loaded the heatmap. */
  heatmapBackground: ((retention: readonly number[]) => string | null) | null = null;

  constructor(host: PlayerControlsHost) {
    this.#host = host;
    host.addController(this);
  }

  /** Storyboard VTT URL; loads it when it changes (a failed load only means no thumbnails). */
  set storyboard(url: string | null) {
    if (url === this.#storyboardUrl) return;
    this.#storyboardUrl = url;
    this.#cues = [];
    this.#storyboardLoad?.abort();
    if (!url) return;
    const load = (this.#storyboardLoad = new AbortController());
    loadStoryboard(url, load.signal).then(
      (cues) => {
        this.#cues = cues;
        this.#host.requestUpdate();
      },
      () => undefined,
    );
  }

  /** The listeners the bar keeps while connected: target, event type, handler. */
  #listeners(): [EventTarget, string, EventListener][] {
    const host = this.#host;
    const video = host.media;
    return [
      ...[...MEDIA_EVENTS, 'enterpictureinpicture', 'leavepictureinpicture'].map(
        (type): [EventTarget, string, EventListener] => [video, type, this.#update],
      ),
      [video, 'play', this.#wake],
      [video.textTracks, 'change', this.#update],
      [video, 'click', this.#onVideoClick],
      [video, 'dblclick', this.#toggleFullscreen],
      [video, 'pointerdown', this.#onVideoPointerDown as EventListener],
      [host, 'keydown', this.#onKeyDown as EventListener],
      [host, 'pointermove', this.#wake],
      [host, 'pointerleave', this.#sleep],
      [document, 'fullscreenchange', this.#update],
    ];
  }

  hostConnected(): void {
    for (const [target, type, listener] of this.#listeners()) target.addEventListener(type, listener);
  }

  hostDisconnected(): void {
    for (const [target, type, listener] of this.#listeners()) target.removeEventListener(type, listener);
    clearTimeout(this.#idleTimer);
    this.#storyboardLoad?.abort();
    this.#storyboardUrl = null;
    this.#menu = null;
  }

  render(): TemplateResult {
    const host = this.#host;
    const video = host.media;
    const growing = host.growing;
    const duration = this.#duration();
    const time = this.#dragging && this.#preview !== null ? this.#preview : host.currentTime;
    const percent = (seconds: number) => (duration ? clamp(seconds / duration, 0, 1) * 100 : 0);
    const { buffered } = video;
    const ranges: TemplateResult[] = [];
    for (let i = 0; i < buffered.length; i++) {
      ranges.push(
        html`<div
          part="seek-buffered"
          style="left:${percent(buffered.start(i))}%;width:${percent(buffered.end(i)) - percent(buffered.start(i))}%"
        ></div>`,
      );
    }
    const volume = video.muted ? 0 : video.volume;
    const captions = host.captionTracks;
    const captionTrack = host.captionTrack;
    const levels = host.qualityLevels;
    const quality = host.qualityLevel;
    const rate = video.playbackRate;
    const root = host.getRootNode() as Document | ShadowRoot;
    const fullscreen = root.fullscreenElement === host;
    const pip = (video.getRootNode() as ShadowRoot).pictureInPictureElement === video;
    const hidden = this.#idle && !video.paused && !this.#menu && !this.#dragging;
    const chapters = host.chapters;
    const chapter = chapters[host.currentChapter];
    const heatmap = this.heatmapBackground?.(host.heatmap);
    return html`<div
      part="controls"
      class="bar"
      role="group"
      aria-label="Video controls"
      ?data-idle=${hidden}
    >
      ${heatmap ? html`<div part="heatmap" aria-hidden="true" style="background:${heatmap}"></div>` : nothing}
      <div
        part="seek-bar"
        class="slider seek"
        role="slider"
        tabindex="0"
        aria-label="Seek"
        aria-valuemin="0"
        aria-valuemax=${Math.floor(duration)}
        aria-valuenow=${Math.floor(Math.min(time, duration))}
        aria-valuetext="${spokenTime(time)} of ${spokenTime(duration)}${growing ? ' so far' : ''}${chapter ? `, ${chapter.title}` : ''}"
        ?data-growing=${growing}
        @pointerdown=${this.#onSeekPointer}
        @pointermove=${this.#onSeekPointer}
        @pointerup=${this.#onSeekPointer}
        @pointercancel=${this.#onSeekPointer}
        @pointerleave=${this.#onSeekPointer}
        @keydown=${this.#onSeekKey}
      >
        <div class="track">
          ${ranges} ${renderChapterMarkers(chapters, percent)}
          <div part="seek-progress" class="fill" style="width:${percent(time)}%"></div>
        </div>
        <div part="seek-thumb" style="left:${percent(time)}%"></div>
        ${this.#preview === null ? nothing : this.#renderPreview(this.#preview)}
      </div>
      ${renderMarkers(host.markers, percent, (marker) => host.selectMarker(marker))}
      <div class="row">
        ${this.#button('play-button', video.paused ? 'Play' : 'Pause', icon(video.paused ? ICONS.play : ICONS.pause), this.#togglePlay)}
        ${this.#button('mute-button', video.muted ? 'Unmute' : 'Mute', icon(volume ? ICONS.volume : ICONS.muted), this.#toggleMute)}
        <div
          part="volume-slider"
          class="slider"
          role="slider"
          tabindex="0"
          aria-label="Volume"
          aria-valuemin="0"
          aria-valuemax="100"
          aria-valuenow=${Math.round(volume * 100)}
          aria-valuetext=${video.muted ? 'muted' : `${Math.round(volume * 100)}%`}
          @pointerdown=${this.#onVolumePointer}
          @pointermove=${this.#onVolumePointer}
          @keydown=${this.#onVolumeKey}
        >
          <div class="track"><div class="fill" style="width:${volume * 100}%"></div></div>
        </div>
        <span part="time-display">${formatTime(time)} / ${formatTime(duration)}${growing ? '…' : ''}</span>
        <span class="spacer"></span>
        ${
          chapters.length
            ? this.#menuButton(
                'chapters',
                'Chapters',
                'Chapters',
                false,
                chapters.map((item, i) => ({
                  label: `${formatTime(item.start)} ${item.title}`,
                  checked: i === host.currentChapter,
                  select: () => (host.currentTime = item.start),
                })),
              )
            : nothing
        }
        ${
          captions.length
            ? this.#menuButton('captions', 'Captions', 'CC', captionTrack >= 0, [
                { label: 'Off', checked: captionTrack < 0, select: () => (host.captionTrack = -1) },
                ...captions.map((track, i) => ({
                  label: track.label || track.language || `Track ${i + 1}`,
                  checked: captionTrack === i,
                  select: () => (host.captionTrack = i),
                })),
              ])
            : nothing
        }
        ${this.#menuButton(
          'rate',
          'Playback speed',
          `${rate}×`,
          false,
          RATES.map((value) => ({
            label: value === 1 ? 'Normal' : `${value}×`,
            checked: value === rate,
            select: () => (host.playbackRate = value),
          })),
        )}
        ${
          levels.length > 1
            ? this.#menuButton(
                'quality',
                'Quality',
                quality < 0 ? 'Auto' : `${levels[quality]?.height}p`,
                false,
                [
                  { label: 'Auto', checked: quality < 0, select: () => (host.qualityLevel = -1) },
                  ...levels
                    .map((level, i) => ({
                      label: level.height ? `${level.height}p` : `${Math.round(level.bitrate / 1000)} kb/s`,
                      checked: quality === i,
                      select: () => (host.qualityLevel = i),
                      height: level.height,
                    }))
                    .sort((a, b) => b.height - a.height),
                ],
              )
            : nothing
        }
        ${
          document.pictureInPictureEnabled && !video.disablePictureInPicture
            ? this.#button(
                'pip-button',
                pip ? 'Exit picture-in-picture' : 'Picture-in-picture',
                icon(ICONS.pip),
                this.#togglePip,
              )
            : nothing
        }
        ${
          document.fullscreenEnabled || 'webkitEnterFullscreen' in video
            ? this.#button(
                'fullscreen-button',
                fullscreen ? 'Exit fullscreen' : 'Fullscreen',
                icon(fullscreen ? ICONS.exit : ICONS.enter),
                this.#toggleFullscreen,
              )
            : nothing
        }
      </div>
    </div>`;
  }

  #renderPreview(time: number): TemplateResult {
    const cue = findStoryboardCue(this.#cues, time);
    const chapters = this.#host.chapters;
    const title = chapters[chapterIndexAt(chapters, time)]?.title;
    // Keep the preview inside the bar.
    const half = (cue?.width ?? 48) / 2;
    const left = clamp(this.#previewX, half, Math.max(half, this.#barWidth - half));
    return html`<div part="preview" style="left:${left}px">
      ${
        cue
          ? html`<div
              part="preview-image"
              style="width:${cue.width}px;height:${cue.height}px;background:url(${JSON.stringify(cue.url)}) -${cue.x}px -${cue.y}px"
            ></div>`
          : nothing
      }
      ${title ? html`<span part="preview-chapter">${title}</span>` : nothing}
      <span part="preview-time">${formatTime(time)}</span>
    </div>`;
  }

  #button(part: string, label: string, content: unknown, action: () => void): TemplateResult {
    return html`<button part="button ${part}" type="button" aria-label=${label} @click=${action}>
      ${content}
    </button>`;
  }

  #menuButton(
    name: MenuName,
    label: string,
    text: string,
    pressed: boolean,
    items: MenuItem[],
  ): TemplateResult {
    const open = this.#menu === name;
    return html`<div class="menu-wrap">
      <button
        part="button ${name}-button"
        type="button"
        aria-label="${label}: ${text}"
        aria-haspopup="menu"
        aria-expanded=${open}
        aria-controls=${open ? `${name}-menu` : nothing}
        ?data-on=${pressed}
        @click=${() => this.#openMenu(open ? null : name)}
      >
        ${text}
      </button>
      ${
        open
          ? html`<div
              part="menu"
              id="${name}-menu"
              role="menu"
              aria-label=${label}
              @keydown=${this.#onMenuKey}
              @focusout=${this.#onMenuFocusOut}
            >
              ${items.map(
                (item) =>
                  html`<button
                    part="menu-item"
                    type="button"
                    role="menuitemradio"
                    tabindex="-1"
                    aria-checked=${item.checked}
                    @click=${() => {
                      item.select();
                      this.#openMenu(null, true);
                    }}
                  >
                    ${item.label}
                  </button>`,
              )}
            </div>`
          : nothing
      }
    </div>`;
  }

  /** Opens a menu (focusing its checked item) or closes the open one (`focusButton`: give focus back to its button). */
  #openMenu(name: MenuName | null, focusButton = false): void {
    const previous = this.#menu;
    this.#menu = name;
    this.#host.requestUpdate();
    void this.#host.updateComplete.then(() => {
      const root = this.#host.renderRoot;
      if (name) root.querySelector<HTMLElement>('[role=menu] [aria-checked=true]')?.focus();
      else if (focusButton && previous)
        root.querySelector<HTMLElement>(`[part~=${previous}-button]`)?.focus();
    });
  }

  #onMenuKey = (event: KeyboardEvent): void => {
    const items = [...(event.currentTarget as HTMLElement).children] as HTMLElement[];
    const at = items.indexOf(event.target as HTMLElement);
    const move: Record<string, number> = {
      ArrowDown: at + 1,
      ArrowUp: at - 1,
      Home: 0,
      End: items.length - 1,
    };
    if (event.key === 'Escape') this.#openMenu(null, true);
    else if (event.key in move) items.at(move[event.key]! % items.length)?.focus();
    else return;
    event.preventDefault();
  };

  #onMenuFocusOut = (event: FocusEvent): void => {
    const wrap = (event.currentTarget as HTMLElement).parentElement!;
    if (!wrap.contains(event.relatedTarget as Node | null)) this.#openMenu(null);
  };

  #duration(): number {
    const video = this.#host.media;
    const { seekable } = video;
    if (this.#host.growing) return seekable.length ? seekable.end(seekable.length - 1) : 0;
    return Number.isFinite(video.duration) ? video.duration : 0;
  }

  #onSeekPointer = (event: PointerEvent): void => {
    const target = event.currentTarget as HTMLElement;
    const { type } = event;
    if (type === 'pointerdown') {
      if (event.button) return;
      target.setPointerCapture(event.pointerId);
      this.#dragging = true;
    }
    if (type === 'pointerup' && this.#dragging && this.#preview !== null)
      this.#host.currentTime = this.#preview;
    if (type === 'pointerup' || type === 'pointercancel') this.#dragging = false;
    if (type === 'pointerleave' || type === 'pointercancel') {
      if (!this.#dragging) this.#preview = null;
    } else if (type !== 'pointerup' || event.pointerType === 'mouse') {
      const fraction = fractionAt(event);
      this.#barWidth = target.clientWidth;
      this.#previewX = fraction * this.#barWidth;
      this.#preview = fraction * this.#duration();
    } else this.#preview = null;
    this.#host.requestUpdate();
  };

  #onVolumePointer = (event: PointerEvent): void => {
    if (event.type === 'pointerdown') (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
    else if (!(event.buttons & 1)) return;
    this.#setVolume(fractionAt(event));
  };

  /** Arrow keys, Home and End on a slider: `step` per arrow, `max` for End. */
  #sliderKey(
    event: KeyboardEvent,
    value: number,
    step: number,
    max: number,
    apply: (value: number) => void,
  ): void {
    const next: Record<string, number> = {
      ArrowRight: value + step,
      ArrowUp: value + step,
      ArrowLeft: value - step,
      ArrowDown: value - step,
      Home: 0,
      End: max,
    };
    if (!(event.key in next)) return;
    event.preventDefault();
    apply(clamp(next[event.key]!, 0, max));
  }

  #onSeekKey = (event: KeyboardEvent): void => {
    const host = this.#host;
    this.#sliderKey(
      event,
      host.currentTime,
      SEEK_STEP,
      this.#duration(),
      (time) => (host.currentTime = time),
    );
  };

  #onVolumeKey = (event: KeyboardEvent): void => {
    const video = this.#host.media;
    this.#sliderKey(event, video.muted ? 0 : video.volume, VOLUME_STEP, 1, this.#setVolume);
  };

  #setVolume = (volume: number): void => {
    const host = this.#host;
    host.volume = volume;
    host.muted = volume === 0;
  };

  /** Keyboard shortcuts, for keys pressed while focus is in the player, never while typing in a field. */
  #onKeyDown = (event: KeyboardEvent): void => {
    const host = this.#host;
    const target = event.composedPath()[0] as HTMLElement;
    if (host.controls !== true || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey)
      return;
    if (isTyping(target) || !host.renderRoot.querySelector('.bar')) return;
    const video = host.media;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === ' ' && target.tagName === 'BUTTON') return;
    const actions: Record<string, () => void> = {
      ' ': this.#togglePlay,
      k: this.#togglePlay,
      ArrowLeft: () => (host.currentTime = Math.max(0, host.currentTime - SEEK_STEP)),
      ArrowRight: () => (host.currentTime = Math.min(this.#duration(), host.currentTime + SEEK_STEP)),
      ArrowUp: () => this.#setVolume(clamp((video.muted ? 0 : video.volume) + VOLUME_STEP * 2, 0, 1)),
      ArrowDown: () => this.#setVolume(clamp((video.muted ? 0 : video.volume) - VOLUME_STEP * 2, 0, 1)),
      m: this.#toggleMute,
      f: this.#toggleFullscreen,
      c: this.#toggleCaptions,
    };
    const action = actions[key];
    if (!action) return;
    event.preventDefault();
    action();
    this.#wake();
  };

  #togglePlay = (): void => {
    const host = this.#host;
    if (host.paused) host.play().catch(() => undefined);
    else host.pause();
  };

  #toggleMute = (): void => {
    const host = this.#host;
    host.muted = !host.muted;
    if (!host.muted && !host.volume) host.volume = 1;
  };

  #toggleCaptions = (): void => {
    const host = this.#host;
    const current = host.captionTrack;
    if (current >= 0) {
      this.#lastCaptions = current;
      host.captionTrack = -1;
    } else if (host.captionTracks.length) {
      const language = host.defaultCaptions?.toLowerCase();
      const preferred = language
        ? host.captionTracks.findIndex((track) => track.language.toLowerCase().startsWith(language))
        : -1;
      host.captionTrack = this.#lastCaptions >= 0 ? this.#lastCaptions : Math.max(0, preferred);
    }
  };

  #toggleFullscreen = (): void => {
    const host = this.#host;
    const video = host.media as HTMLVideoElement & { webkitEnterFullscreen?: () => void };
    if ((host.getRootNode() as Document | ShadowRoot).fullscreenElement === host) {
      void document.exitFullscreen();
    } else if (document.fullscreenEnabled) {
      host.requestFullscreen().catch(() => undefined);
    } else {
      // iPhone: only the video itself can go fullscreen, with the system's controls.
      video.webkitEnterFullscreen?.();
    }
  };

  #togglePip = (): void => {
    const video = this.#host.media;
    const open = (video.getRootNode() as ShadowRoot).pictureInPictureElement === video;
    (open ? document.exitPictureInPicture() : video.requestPictureInPicture()).catch(() => undefined);
  };

  #onVideoPointerDown = (event: PointerEvent): void => {
    this.#swallowClick = !!this.#menu || (event.pointerType === 'touch' && this.#idle && !this.#host.paused);
    this.#wake();
  };

  #onVideoClick = (): void => {
    if (this.#host.controls !== true || this.#swallowClick) return;
    this.#togglePlay();
  };

  #update = (): void => {
    if (this.#host.controls === true) this.#host.requestUpdate();
  };

  #wake = (): void => {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(this.#sleep, IDLE_MS);
    if (this.#idle) {
      this.#idle = false;
      this.#update();
    }
  };

  #sleep = (): void => {
    clearTimeout(this.#idleTimer);
    if (!this.#idle) {
      this.#idle = true;
      this.#update();
    }
  };
}
