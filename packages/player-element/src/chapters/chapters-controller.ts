import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { chapterIndexAt } from './chapter-index.js';
import type { PlayerChapter } from './chapters-vtt.js';

/** Detail of `notetaker-chapterchange`. */
export interface NotetakerChapterChangeDetail {
  /** Index into the player's `chapters`. */
  index: number;
  title: string;
  /** Seconds. */
  start: number;
}

/** The element whose chapters this controller keeps. */
export interface ChaptersHost extends ReactiveControllerHost, HTMLElement {
  readonly media: HTMLVideoElement;
  /** Current position in seconds, including a seek that waits for the media. */
  readonly currentTime: number;
}

const TIME_EVENTS = ['timeupdate', 'seeking', 'seeked'] as const;

/**
 * Chapters of `<notetaker-player>`: loads the WebVTT chapters track the server hands out (`chapters_url`), says which
 * chapter is playing and fires `notetaker-chapterchange` when playback enters another one. A failed load only means
 * no chapters.
 */
export class ChaptersController implements ReactiveController {
  #host: ChaptersHost;
  #url: string | null = null;
  #load: AbortController | null = null;
  /** The load of `#url`. */
  #loading = Promise.resolve();
  #chapters: PlayerChapter[] = [];
  #current = -1;

  constructor(host: ChaptersHost) {
    this.#host = host;
    host.addController(this);
  }

  /** The chapters, sorted by start (empty when the video has none). */
  get chapters(): readonly PlayerChapter[] {
    return this.#chapters;
  }

  /** Index of the chapter playing now, or -1. */
  get current(): number {
    return this.#current;
  }

  /** The chapters track's URL; loads it when it changes. A new load of the same video keeps the chapters. */
  set url(url: string | null) {
    void this.load(url);
  }

  /** Loads the chapters of `url` (null: none), unless it is the URL already loaded or loading; resolves when done. */
  load(url: string | null): Promise<void> {
    if (url === this.#url) return this.#loading;
    const sameVideo = !!url && !!this.#url && sameResource(url, this.#url);
    this.#url = url;
    this.#load?.abort();
    if (!sameVideo) this.#set([]);
    if (!url) return (this.#loading = Promise.resolve());
    const load = (this.#load = new AbortController());
    // The parser loads with the first video that has chapters, alongside its track.
    return (this.#loading = Promise.all([
      fetch(url, { signal: load.signal }).then((response) =>
        response.ok ? response.text() : Promise.reject(new Error(String(response.status))),
      ),
      import('./chapters-vtt.js'),
    ]).then(
      ([text, { parseChapters }]) => {
        if (!load.signal.aborted) this.#set(parseChapters(text));
      },
      () => undefined,
    ));
  }

  hostConnected(): void {
    for (const type of TIME_EVENTS) this.#host.media.addEventListener(type, this.#onTime);
  }

  hostDisconnected(): void {
    for (const type of TIME_EVENTS) this.#host.media.removeEventListener(type, this.#onTime);
    this.#load?.abort();
    this.#url = null;
  }

  #set(chapters: PlayerChapter[]): void {
    this.#chapters = chapters;
    this.#current = -1;
    this.#onTime();
    this.#host.requestUpdate();
  }

  #onTime = (): void => {
    const index = chapterIndexAt(this.#chapters, this.#host.currentTime);
    if (index === this.#current) return;
    this.#current = index;
    this.#host.requestUpdate();
    const chapter = this.#chapters[index];
    if (!chapter) return;
    const detail: NotetakerChapterChangeDetail = { index, title: chapter.title, start: chapter.start };
    this.#host.dispatchEvent(
      new CustomEvent('notetaker-chapterchange', { detail, bubbles: true, composed: true }),
    );
  };
}

/** Two chapters URLs of the same video (only their playback tokens differ). */
function sameResource(a: string, b: string): boolean {
  return a.split('?')[0] === b.split('?')[0];
}
