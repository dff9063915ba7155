import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { PlayerState } from '../constants.js';
import type { TokenProvider } from '../stream-client.js';

/** Colour stops of the strip (the retention curve is averaged into this many). */
const STOPS = 60;

/** The element whose owner's heatmap this controller loads. */
export interface HeatmapHost extends ReactiveControllerHost, HTMLElement {
  readonly videoId: string | null;
  readonly apiBase: string | null;
  readonly token: string | null;
  readonly getToken: TokenProvider | null;
  readonly showHeatmap: boolean;
  readonly state: PlayerState;
}

/**
 * The audience heatmap of `show-heatmap`: once the video is ready, asks the server for its analytics with the user's
 * token — which only the owner (or the management API) may read — and keeps the retention curve. Anyone else gets a
 * 404 and sees no strip.
 */
export class HeatmapController implements ReactiveController {
  #host: HeatmapHost;
  #loadedFor: string | null = null;
  #load: AbortController | null = null;
  /** Share of sessions that watched each second; empty when none or not allowed. */
  retention: readonly number[] = [];

  constructor(host: HeatmapHost) {
    this.#host = host;
    host.addController(this);
  }

  hostUpdated(): void {
    const host = this.#host;
    const key = host.showHeatmap && host.state === 'ready' && host.apiBase ? host.videoId : null;
    if (key === this.#loadedFor) return;
    this.#loadedFor = key;
    this.#load?.abort();
    this.retention = [];
    if (!key) return;
    const load = (this.#load = new AbortController());
    void this.#fetch(host.apiBase!, key, load.signal).then(
      (retention) => {
        this.retention = retention;
        host.requestUpdate();
      },
      () => undefined,
    );
  }

  hostDisconnected(): void {
    this.#load?.abort();
    this.#loadedFor = null;
  }

  async #fetch(apiBase: string, videoId: string, signal: AbortSignal): Promise<number[]> {
    const host = this.#host;
    const token = host.getToken ? await host.getToken({ refresh: false }) : host.token;
    const response = await fetch(
      `${apiBase.replace(/\/+$/, '')}/api/videos/${encodeURIComponent(videoId)}/analytics`,
      {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal,
      },
    );
    if (!response.ok) return [];
    const { retention } = (await response.json()) as { retention?: unknown };
    return Array.isArray(retention)
      ? retention.filter((value): value is number => typeof value === 'number')
      : [];
  }
}

/**
 * The background of the strip above the seek bar (a left-to-right gradient: the darker, the more of the audience
 * watched that part), or null without retention.
 */
export function heatmapBackground(retention: readonly number[]): string | null {
  if (!retention.length) return null;
  const count = Math.min(STOPS, retention.length);
  const stops: string[] = [];
  for (let i = 0; i < count; i++) {
    const from = Math.floor((i * retention.length) / count);
    const to = Math.max(from + 1, Math.floor(((i + 1) * retention.length) / count));
    const slice = retention.slice(from, to);
    const share = slice.reduce((sum, value) => sum + value, 0) / slice.length;
    stops.push(
      `rgb(var(--_heat) / ${Math.min(1, Math.max(0, share)).toFixed(2)}) ${((i + 0.5) * 100) / count}%`,
    );
  }
  return `linear-gradient(90deg,${stops.join(',')})`;
}
