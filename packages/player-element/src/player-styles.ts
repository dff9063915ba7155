import { css } from 'lit';

/** Shadow styles of `<notetaker-player>`; colours and sizes come from `--notetaker-player-*` custom properties. */
export const playerStyles = css`
  :host {
    --_accent: var(--notetaker-player-accent-color, #fff);
    display: block;
    position: relative;
    overflow: hidden;
    aspect-ratio: var(--notetaker-player-aspect-ratio, 16 / 9);
    background: var(--notetaker-player-background, #000);
    color: var(--notetaker-player-color, #fff);
    font: var(--notetaker-player-font, 15px/1.4 system-ui, sans-serif);
    border-radius: var(--notetaker-player-radius, 0);
  }
  :host([hidden]) {
    display: none;
  }
  video {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: var(--notetaker-player-object-fit, contain);
  }
  .overlay {
    position: absolute;
    inset: 0;
    display: flex;
    flex-direction: column;
    align-items: center;
    justify-content: center;
    gap: 0.75em;
    padding: 1em;
    text-align: center;
  }
  [part~='overlay'] {
    background: var(--notetaker-player-overlay-background, rgb(0 0 0 / 0.8));
  }
  .loading {
    pointer-events: none;
  }
  p {
    margin: 0;
  }
  [part~='progress'] {
    width: min(60%, 16em);
    height: 0.375em;
    border-radius: 1em;
    background: rgb(255 255 255 / 0.25);
    overflow: hidden;
  }
  [part~='progress'] div {
    height: 100%;
    background: var(--_accent);
    transform-origin: left;
  }
  [part~='spinner'] {
    width: var(--notetaker-player-spinner-size, 2.5em);
    aspect-ratio: 1;
    box-sizing: border-box;
    border: 0.25em solid rgb(255 255 255 / 0.3);
    border-top-color: var(--_accent);
    border-radius: 50%;
    animation: spin 1s linear infinite;
  }
  button {
    font: inherit;
    color: var(--notetaker-player-button-color, #000);
    background: var(--_accent);
    border: 0;
    border-radius: 0.25em;
    padding: 0.5em 1.25em;
    cursor: pointer;
  }
  :focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
  video:focus-visible,
  .bar :focus-visible {
    outline-offset: -2px;
  }
  .bar {
    position: absolute;
    inset: auto 0 0;
    display: flex;
    flex-direction: column;
    padding: 2em 0.5em 0.25em;
    color: var(--notetaker-player-controls-color, #fff);
    background: var(--notetaker-player-controls-background, linear-gradient(transparent, rgb(0 0 0 / 0.75)));
    container-type: inline-size;
    transition: opacity 0.25s;
  }
  .bar[data-idle]:not(:has(:focus-visible)) {
    opacity: 0;
    pointer-events: none;
  }
  .row {
    display: flex;
    align-items: center;
  }
  .bar button {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    min-width: 2.5em;
    height: 2.5em;
    padding: 0 0.375em;
    color: inherit;
    background: none;
    white-space: nowrap;
  }
  svg {
    width: 1.5em;
    fill: currentColor;
  }
  [data-on] {
    text-decoration: underline 2px var(--_accent);
    text-underline-offset: 0.25em;
  }
  .slider {
    position: relative;
    display: flex;
    align-items: center;
    height: 1.5em;
    cursor: pointer;
    touch-action: none;
  }
  .seek {
    margin: 0 0.5em;
  }
  .track {
    position: relative;
    flex: 1;
    height: 0.25em;
    border-radius: 1em;
    background: var(--notetaker-player-track-color, rgb(255 255 255 / 0.3));
  }
  .seek:hover .track {
    height: 0.375em;
  }
  .track > div {
    position: absolute;
    inset: 0 auto 0 0;
    border-radius: inherit;
  }
  [part~='seek-buffered'] {
    background: var(--notetaker-player-buffered-color, rgb(255 255 255 / 0.45));
  }
  .fill {
    background: var(--_accent);
  }
  [data-growing] .track::after {
    content: '';
    position: absolute;
    right: -0.25em;
    top: 0;
    bottom: 0;
    width: 1em;
    border-radius: inherit;
    background: linear-gradient(90deg, transparent, var(--_accent));
    animation: pulse 1s ease-in-out infinite alternate;
  }
  [part~='seek-thumb'] {
    position: absolute;
    width: 0.75em;
    aspect-ratio: 1;
    border-radius: 50%;
    background: var(--_accent);
    translate: -50%;
  }
  [part~='volume-slider'] {
    width: 4.5em;
    margin: 0 0.5em;
  }
  [part~='time-display'] {
    padding: 0 0.5em;
    white-space: nowrap;
    font-variant-numeric: tabular-nums;
  }
  .spacer {
    flex: 1;
  }
  [part~='preview'] {
    position: absolute;
    bottom: 1.75em;
    translate: -50%;
    display: flex;
    flex-direction: column;
    align-items: center;
    gap: 0.25em;
    pointer-events: none;
  }
  [part~='preview-image'] {
    outline: 2px solid var(--notetaker-player-controls-color, #fff);
    border-radius: 0.25em;
  }
  [part~='preview-chapter'] {
    max-width: 16em;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  [part~='preview-chapter'],
  [part~='marker-label'],
  [part~='preview-time'] {
    padding: 0 0.375em;
    border-radius: 0.25em;
    background: rgb(0 0 0 / 0.75);
    font-variant-numeric: tabular-nums;
  }
  [part~='chapter-marker'] {
    position: absolute;
    top: 0;
    bottom: 0;
    width: 3px;
    translate: -50%;
    background: var(--notetaker-player-chapter-gap-color, rgb(0 0 0 / 0.6));
  }
  [part~='heatmap'] {
    --_heat: 251 191 36;
    height: 0.375em;
    margin: 0 0.5em;
    border-radius: 2px;
  }
  .marks {
    position: relative;
    height: 0;
    margin: 0 0.5em;
  }
  .marks [part~='marker'] {
    position: absolute;
    bottom: 0.375em;
    min-width: 0;
    width: 0.5em;
    height: 0.75em;
    padding: 0;
    translate: -50%;
    border-radius: 2px;
    background: var(--notetaker-player-marker-color, #fbbf24);
  }
  [part~='marker-label'] {
    position: absolute;
    bottom: 1.25em;
    left: 50%;
    translate: -50%;
    white-space: nowrap;
    pointer-events: none;
  }
  [part~='marker']:not(:hover, :focus-visible) > span {
    display: none;
  }
  .menu-wrap {
    position: relative;
  }
  [part~='menu'] {
    position: absolute;
    right: 0;
    bottom: 100%;
    display: flex;
    flex-direction: column;
    min-width: 8em;
    max-height: 15em;
    overflow-y: auto;
    padding: 0.25em 0;
    border-radius: 0.375em;
    background: var(--notetaker-player-menu-background, rgb(28 28 28 / 0.95));
  }
  .bar [part~='menu-item'] {
    position: relative;
    justify-content: flex-start;
    height: 2.25em;
    padding: 0 1em 0 2em;
  }
  [part~='menu-item']:hover {
    background: rgb(255 255 255 / 0.15);
  }
  [aria-checked='true']::before {
    content: '✓';
    position: absolute;
    left: 0.75em;
  }
  @container (width < 30em) {
    [part~='volume-slider'],
    [part~='rate-button'] {
      display: none;
    }
  }
  .sr {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
  }
  @keyframes pulse {
    to {
      opacity: 0.2;
    }
  }
  @keyframes spin {
    to {
      rotate: 1turn;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    [part~='spinner'] {
      animation-duration: 4s;
    }
    [data-growing] .track::after {
      animation: none;
    }
  }
`;
