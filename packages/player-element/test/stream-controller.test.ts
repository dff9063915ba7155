// StreamController on a bare Lit host instead of <notetaker-player>: the /stream lifecycle needs nothing but what
// StreamHost describes. Scripted /stream answers; HLS made by ffmpeg and served with scripted failures.
import type { HlsConfig } from 'hls.js';
import { LitElement, html, type PropertyValues } from 'lit';
import {
  MEDIA_EVENTS,
  PlayerEventName,
  type AutoplayPolicy,
  type NotetakerErrorDetail,
  type PlayerState,
  type PreferPlayback,
} from '../src/constants.js';
import type { PlayerStreamClient, TokenProvider } from '../src/stream-client.js';
import { StreamController, type StreamHost } from '../src/stream/stream-controller.js';
import {
  assert,
  equal,
  FIXTURE_HLS_URL,
  generating,
  nextEvent,
  ready,
  scriptApi,
  unavailable,
  waitFor,
  type ScriptedApi,
} from './support/browser.js';

const VIDEO = '5b0e7c1a-9d2f-4e3b-8a6c-1f2e3d4c5b6a';

class StreamHostElement extends LitElement implements StreamHost {
  static override properties = { videoId: {}, apiBase: {}, token: {} };
  declare videoId: string | null;
  declare apiBase: string | null;
  declare token: string | null;
  getToken: TokenProvider | null = null;
  client: PlayerStreamClient | null = null;
  startTime: number | null = null;
  autoplay: AutoplayPolicy = 'muted';
  preferPlayback: PreferPlayback | null = null;
  hlsConfig: Partial<HlsConfig> | null = null;
  readonly media = document.createElement('video');
  readonly stream = new StreamController(this);
  /** `state` each time `updated` saw it change. */
  readonly states: PlayerState[] = [];

  constructor() {
    super();
    this.videoId = this.apiBase = this.token = null;
    this.media.muted = true;
    for (const type of MEDIA_EVENTS) {
      this.media.addEventListener(type, () => this.stream.handleMediaEvent(type));
    }
    this.requestUpdate('state');
  }

  get state(): PlayerState {
    return this.stream.view.state;
  }

  protected override render() {
    return html`${this.media}`;
  }

  protected override updated(changed: PropertyValues): void {
    if (changed.has('state')) this.states.push(this.state);
    this.stream.propertiesChanged(changed);
  }
}
customElements.define('stream-controller-host', StreamHostElement);

let api: ScriptedApi | undefined;

afterEach(() => {
  api?.restore();
  api = undefined;
  for (const host of document.querySelectorAll('stream-controller-host')) host.remove();
});

function mount(base: string, setup: (host: StreamHostElement) => void = () => undefined): StreamHostElement {
  const host = document.createElement('stream-controller-host') as StreamHostElement;
  setup(host);
  document.body.append(host);
  host.apiBase = base;
  host.token = 'host-token';
  host.videoId = VIDEO;
  return host;
}

describe('StreamController on a bare host', () => {
  it("waits while the server generates, plays when ready, and reports each state through the host's updates", async () => {
    let polls = 0;
    api = scriptApi(() => (++polls < 3 ? generating({ progress: 0.4 }) : ready(FIXTURE_HLS_URL)));
    const statuses: string[] = [];
    const host = mount(api.base, (element) =>
      element.addEventListener(PlayerEventName.status, ({ detail }) =>
        statuses.push(detail.status === 'preparing' ? `preparing ${detail.progress}` : detail.status),
      ),
    );
    await nextEvent(host.media, 'playing');
    equal(host.states.join(), 'idle,loading,preparing,loading,ready', 'states seen in updated');
    equal(statuses.join(), 'preparing 0.4,preparing 0.4,ready', 'status events');
    equal(api.requests.length, 3, '/stream requests: one load whatever the order of the properties');
    assert(
      api.requests.every((request) => request.authorization === 'Bearer host-token'),
      "the host's token is sent",
    );
    equal(host.stream.view.error, null, 'no error');
  });

  it('rides out a window of 503s with Retry-After (more than the retry limit) and plays once the server is back', async () => {
    let polls = 0;
    // Generating, then eight 503s (the SDK's retry limit is five), then ready.
    api = scriptApi(() => {
      polls += 1;
      if (polls === 1) return generating();
      if (polls <= 9) return unavailable('0.05');
      return ready(FIXTURE_HLS_URL);
    });
    const errors: unknown[] = [];
    const host = mount(api.base, (element) =>
      element.addEventListener(PlayerEventName.error, ({ detail }) => errors.push(detail)),
    );
    await nextEvent(host.media, 'playing');
    equal(api.requests.length, 10, '/stream asked through the whole window');
    equal(errors.length, 0, 'no error event');
    equal(host.stream.view.error, null, 'no error');
    equal(host.state, 'ready', 'ready');
  });

  it('gives up after three reloads with fresh URLs within a minute, and retry starts with a fresh budget', async () => {
    let mode = 'forbidden';
    let loads = 0;
    api = scriptApi(() =>
      ready(new URL(`/flaky/controller-${Date.now()}-${loads++}/${mode}/playlist`, location.href).href),
    );
    const host = mount(api.base);
    const error = await nextEvent<CustomEvent<NotetakerErrorDetail>>(host, PlayerEventName.error);
    equal(error.detail.code, 'playback_forbidden', 'error code');
    equal(host.stream.view.error, error.detail, 'error in the view');
    equal(host.state, 'error', 'state');
    equal(host.stream.engine, null, 'engine torn down');
    equal(api.requests.length, 4, '/stream requests: the first and three refreshes');
    mode = '0';
    host.stream.retry();
    await waitFor(() => host.state === 'ready', 'ready after retry');
    equal(api.requests.length, 5, '/stream requests after retry');
    equal(host.stream.view.error, null, 'error cleared');
  });

  it('applies a seek asked for before loading, and resumes in place when the host is connected again', async () => {
    api = scriptApi(() => ready(FIXTURE_HLS_URL));
    const host = mount(api.base, (element) => (element.stream.currentTime = 3));
    equal(host.stream.currentTime, 3, 'queued seek reported before loading');
    await nextEvent(host.media, 'playing');
    await waitFor(() => host.media.currentTime > 3.5, `played on from 3 s (${host.media.currentTime})`);
    host.remove();
    const at = host.stream.currentTime;
    equal(host.stream.engine, null, 'engine torn down on disconnect');
    document.body.append(host);
    await nextEvent(host.media, 'playing');
    await waitFor(() => host.media.readyState >= 3 && !host.media.seeking, 'resumed');
    assert(host.media.currentTime >= at - 0.5, `resumed at ${host.media.currentTime}, left at ${at}`);
    equal(api.requests.length, 2, '/stream requests: one per connection');
  });
});
