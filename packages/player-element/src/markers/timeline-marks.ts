import { html, nothing, type TemplateResult } from 'lit';
import type { PlayerChapter } from '../chapters/chapters-vtt.js';
import { formatTime, spokenTime } from '../controls/format-time.js';

/** A note's place on the timeline, set by the host page through the player's `markers` property. */
export interface PlayerMarker {
  /** Seconds from the start of the video. */
  time: number;
  /** Shown on hover and focus, and read by screen readers. */
  label: string;
  /** The host page's own id of the note, handed back in `notetaker-markerclick`. */
  id?: string;
}

/** Detail of `notetaker-markerclick`. */
export interface NotetakerMarkerClickDetail {
  marker: PlayerMarker;
}

/**
 * Chapter boundaries inside the seek bar's track (decoration: the seek bar's value text names the chapter), one per
 * chapter after the first.
 */
export function renderChapterMarkers(
  chapters: readonly PlayerChapter[],
  percent: (seconds: number) => number,
): TemplateResult[] {
  return chapters
    .slice(1)
    .map((chapter) => html`<i part="chapter-marker" style="left:${percent(chapter.start)}%"></i>`);
}

/**
 * The host page's markers as buttons over the seek bar: a tick each, its label on hover and focus; a click (or Enter,
 * Space) calls `select`. They sit beside the seek slider, not in it, so each stays a button of its own for keyboards
 * and screen readers.
 */
export function renderMarkers(
  markers: readonly PlayerMarker[],
  percent: (seconds: number) => number,
  select: (marker: PlayerMarker) => void,
): TemplateResult | typeof nothing {
  if (!markers.length) return nothing;
  return html`<div class="marks" role="group" aria-label="Notes">
    ${markers.map(
      (marker) =>
        html`<button
          part="marker"
          type="button"
          style="left:${percent(marker.time)}%"
          aria-label="${marker.label}, ${spokenTime(marker.time)}"
          @pointerdown=${(event: Event) => event.stopPropagation()}
          @click=${() => select(marker)}
        >
          <span part="marker-label">${formatTime(marker.time)} ${marker.label}</span>
        </button>`,
    )}
  </div>`;
}
