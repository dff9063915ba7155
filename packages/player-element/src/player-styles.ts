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
  button:focus-visible {
    outline: 2px solid var(--_accent);
    outline-offset: 2px;
  }
  .sr {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
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
  }
`;
