import type { ReactiveControllerHost } from 'lit';
import type { CaptionTrack } from '../captions/captions-controller.js';
import type { PlayerChapter } from '../chapters/chapters-vtt.js';
import type { QualityLevel } from '../engine/playback-engine.js';
import type { PlayerMarker } from '../markers/timeline-marks.js';

/** `controls` values: `true` (the default) the element's control bar, `'native'` the browser's, `false` none. */
export type ControlsMode = boolean | 'native';

/**
 * What the control bar needs from the element it renders into: the player's public API (the same one a page uses to
 * build its own controls with `controls="none"`), plus the element itself for focus, fullscreen and key events.
 * The player element implements it.
 */
export interface PlayerControlsHost extends ReactiveControllerHost, HTMLElement {
  /** The inner `<video>`. */
  readonly media: HTMLVideoElement;
  readonly renderRoot: HTMLElement | DocumentFragment;
  readonly controls: ControlsMode;
  readonly paused: boolean;
  play(): Promise<void>;
  pause(): void;
  /** Current position in seconds, including a seek that waits for the media. */
  currentTime: number;
  /** `true` while the playlist still grows: the seek bar ends where the media ends so far. */
  readonly growing: boolean;
  volume: number;
  muted: boolean;
  playbackRate: number;
  readonly captionTracks: readonly CaptionTrack[];
  /** Index into `captionTracks`, or -1 for none. */
  captionTrack: number;
  /** Language preferred when captions are switched on from the keyboard. */
  readonly defaultCaptions: string | null;
  readonly qualityLevels: readonly QualityLevel[];
  /** Index into `qualityLevels`, or -1 for automatic. */
  qualityLevel: number;
  /** The video's chapters, sorted by start. */
  readonly chapters: readonly PlayerChapter[];
  /** Index into `chapters` of the one playing, or -1. */
  readonly currentChapter: number;
  /** The host page's note markers. */
  readonly markers: readonly PlayerMarker[];
  /** The owner's audience retention per second for the heatmap strip (`show-heatmap`); empty for none. */
  readonly heatmap: readonly number[];
  /** Seeks to a marker and tells the page (`notetaker-markerclick`). */
  selectMarker(marker: PlayerMarker): void;
}
