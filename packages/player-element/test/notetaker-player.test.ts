import '../src/define.js';
import { createStreamClient } from '@notetaker/client-sdk';
import { sendKeys } from '@web/test-runner-commands';
import { NotetakerPlayerElement } from '../src/notetaker-player.js';
import { PlayerEventName, type NotetakerErrorDetail, type NotetakerStatusDetail } from '../src/constants.js';
import {
  apiError,
  assert,
  createPlayer,
  equal,
  expectNoAxeViolations,
  FIXTURE_HLS_URL,
  generating,
  never,
  nextEvent,
  ready,
  scriptApi,
  waitFor,
  type ScriptedApi,
} from './support/browser.js';

const VIDEO = '7d3f3c1e-2b1a-4c59-9d0e-5b8f2a6c1d00';
let api: ScriptedApi | undefined;

afterEach(() => {
  api?.restore();
  api = undefined;
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

describe('<notetaker-player> element', () => {
  it('is registered under its tag by the define entry', () => {
    equal(customElements.get('notetaker-player'), NotetakerPlayerElement, 'registered class');
    assert(document.createElement('notetaker-player') instanceof NotetakerPlayerElement, 'instance');
  });

  it('asks /stream exactly once whatever order the attributes arrive in, before or after connection', async () => {
    const stream = (api = scriptApi(() => generating({ progress: 0.5 })));
    const attributes: [string, string][] = [
      ['video-id', VIDEO],
      ['api-base', stream.base],
      ['token', 'user-token'],
      ['start-time', '2'],
    ];
    for (const order of permutations(attributes)) {
      for (const connectFirst of [true, false]) {
        const before = stream.requests.length;
        const player = document.createElement('notetaker-player');
        if (connectFirst) document.body.append(player);
        for (const [name, value] of order) player.setAttribute(name, value);
        if (!connectFirst) document.body.append(player);
        await nextEvent(player, PlayerEventName.status);
        player.remove();
        equal(stream.requests.length - before, 1, `requests for ${order.map(([n]) => n).join(',')}`);
      }
    }
    assert(
      stream.requests.every((r) => r.authorization === 'Bearer user-token'),
      'token sent as Bearer',
    );
  });

  it('shows an accessible preparing state with progress while the server generates', async () => {
    api = scriptApi(() => generating({ progress: 0.25 }));
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base });
    const event = await nextEvent<CustomEvent<NotetakerStatusDetail>>(player, PlayerEventName.status);
    equal(
      JSON.stringify(event.detail),
      JSON.stringify({ status: 'preparing', progress: 0.25 }),
      'status detail',
    );
    await player.updateComplete;
    equal(player.state, 'preparing', 'state');
    equal(player.getAttribute('state'), 'preparing', 'state attribute');
    const bar = player.shadowRoot!.querySelector('[role=progressbar]')!;
    equal(bar.getAttribute('aria-valuenow'), '25', 'progress value');
    equal(bar.getAttribute('aria-label'), 'Preparing video', 'progress label');
    assert(player.media.inert, 'video is inert while preparing');
    await expectNoAxeViolations(player);
  });

  it('plays once a preparing video becomes ready', async () => {
    let polls = 0;
    api = scriptApi(() => (++polls < 3 ? generating() : ready(FIXTURE_HLS_URL)));
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, autoplay: 'muted' });
    await nextEvent(player, PlayerEventName.status);
    equal(player.state, 'preparing', 'first state');
    await nextEvent(player, 'playing');
    equal(player.state, 'ready', 'state after playing');
    equal(polls, 3, '/stream polls');
  });

  it('shows an error with a working Retry that restarts a failed generation', async () => {
    let failed = true;
    api = scriptApi((request) => {
      if (request.method === 'POST') {
        failed = false;
        return generating();
      }
      return failed
        ? {
            status: 200,
            body: { status: 'failed', error_message: 'Invalid data found when processing input' },
          }
        : ready(FIXTURE_HLS_URL);
    });
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base });
    const error = await nextEvent<CustomEvent<NotetakerErrorDetail>>(player, PlayerEventName.error);
    equal(error.detail.code, 'generation_failed', 'error code');
    await player.updateComplete;
    const alert = player.shadowRoot!.querySelector('[role=alert]')!;
    assert(alert.textContent!.includes('could not be prepared'), 'message shown in an alert');
    await expectNoAxeViolations(player);
    const retry = player.shadowRoot!.querySelector<HTMLButtonElement>('[part=retry-button]')!;
    equal(retry.textContent, 'Retry', 'button label');
    retry.click();
    await waitFor(() => player.state === 'ready', 'ready after retry');
    const paths = api.requests.map((r) => `${r.method} ${r.path}`);
    assert(paths.includes(`POST /api/videos/${VIDEO}/stream/retry`), `retry posted (${paths.join(', ')})`);
  });

  it('asks /stream for fresh URLs when playback is refused, gives up after three, and Retry starts over', async () => {
    let mode = 'forbidden';
    let loads = 0;
    api = scriptApi(() =>
      ready(new URL(`/flaky/refused-${Date.now()}-${loads++}/${mode}/playlist`, location.href).href),
    );
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, autoplay: 'muted' });
    const error = await nextEvent<CustomEvent<NotetakerErrorDetail>>(player, PlayerEventName.error);
    equal(error.detail.code, 'playback_forbidden', 'error code');
    equal(api.requests.length, 4, '/stream requests: the first and three refreshes');
    mode = '0';
    player.retry();
    await waitFor(() => player.state === 'ready', 'ready after Retry');
    equal(api.requests.length, 5, '/stream requests after Retry');
    equal(player.error, null, 'error cleared');
  });

  it('asks /stream again when the playlist answers 409 because the generation restarted', async () => {
    const urls = [new URL('/flaky/restarted/conflict/playlist', location.href).href, FIXTURE_HLS_URL];
    let answers = 0;
    api = scriptApi(() => ready(urls[Math.min(answers++, 1)]!));
    const errors: string[] = [];
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, autoplay: 'muted' });
    player.addEventListener(PlayerEventName.error, (event) => errors.push(event.detail.code));
    await nextEvent(player, 'playing');
    equal(api.requests.length, 2, '/stream requests');
    equal(errors.join(), '', 'errors');
  });

  it('moves focus to Retry when an error appears while focus is inside the player', async () => {
    api = scriptApi(() => ready(FIXTURE_HLS_URL));
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base });
    await waitFor(() => player.state === 'ready', 'ready');
    player.media.focus();
    assert(player.shadowRoot!.activeElement === player.media, 'video focused');
    api.restore();
    api = scriptApi(() => apiError(404, 'not_found'));
    player.setAttribute('video-id', '00000000-0000-4000-8000-000000000000');
    await waitFor(() => player.state === 'error', 'error state');
    await player.updateComplete;
    equal(player.shadowRoot!.activeElement?.getAttribute('part'), 'retry-button', 'focused element');
  });

  it('retries from the keyboard and gives focus back to the video', async () => {
    let answer = apiError(404, 'not_found');
    api = scriptApi(() => answer);
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base });
    await nextEvent(player, PlayerEventName.error);
    await player.updateComplete;
    const retry = player.shadowRoot!.querySelector<HTMLButtonElement>('[part=retry-button]')!;
    retry.focus();
    answer = ready(FIXTURE_HLS_URL);
    await sendKeys({ press: 'Enter' });
    await waitFor(() => player.state === 'ready', 'ready after Enter on Retry');
    equal(player.shadowRoot!.activeElement, player.media, 'focused element after Retry');
  });

  it('maps API answers to documented error codes', async () => {
    const cases: [number, string, string][] = [
      [404, 'not_found', 'not_found'],
      [409, 'upload_incomplete', 'upload_incomplete'],
      [401, 'unauthorized', 'unauthorized'],
    ];
    for (const [status, apiCode, expected] of cases) {
      api?.restore();
      api = scriptApi(() => apiError(status, apiCode));
      const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, token: 't' });
      const event = await nextEvent<CustomEvent<NotetakerErrorDetail>>(player, PlayerEventName.error);
      equal(event.detail.code, expected, `code for ${status}`);
      equal(player.error?.code, expected, 'error property');
      player.remove();
    }
  });

  it('fires a standard error event after notetaker-error, as a <video> does, also to onerror', async () => {
    api = scriptApi(() => apiError(404, 'not_found'));
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, token: 't' });
    const order: string[] = [];
    player.addEventListener(PlayerEventName.error, () => order.push('notetaker-error'));
    let handled: Event | undefined;
    player.onerror = (event) => {
      handled = event as Event;
    };
    const event = await nextEvent(player, 'error');
    order.push('error');
    equal(event.constructor, Event, 'a plain Event');
    equal(event.bubbles, false, 'does not bubble');
    equal(handled, event, 'onerror called');
    equal(player.error?.code, 'not_found', 'error property');
    equal(order.join(','), 'notetaker-error,error', 'order');
  });

  it('uses a client handed to it and reports server errors as network errors', async () => {
    api = scriptApi(() => apiError(500, 'internal'));
    const player = document.createElement('notetaker-player');
    player.client = createStreamClient({ baseUrl: api.base, token: 't', retry: { limit: 0 } });
    player.videoId = VIDEO;
    document.body.append(player);
    const event = await nextEvent<CustomEvent<NotetakerErrorDetail>>(player, PlayerEventName.error);
    equal(event.detail.code, 'network', 'code for a 500');
    equal(api.requests.length, 1, 'requests');
  });

  it('asks getToken again when the API rejects its token', async () => {
    const tokens = ['expired', 'fresh'];
    let calls = 0;
    api = scriptApi((request) =>
      request.authorization === 'Bearer fresh' ? generating() : apiError(401, 'unauthorized'),
    );
    const player = document.createElement('notetaker-player');
    const refreshes: boolean[] = [];
    player.getToken = async ({ refresh }) => {
      refreshes.push(refresh);
      return tokens[calls++]!;
    };
    player.videoId = VIDEO;
    player.apiBase = api.base;
    document.body.append(player);
    const event = await nextEvent<CustomEvent<NotetakerStatusDetail>>(player, PlayerEventName.status);
    equal(event.detail.status, 'preparing', 'status after token refresh');
    equal(JSON.stringify(refreshes), '[false,true]', 'getToken calls');
  });

  it('reloads when a rejected token is replaced', async () => {
    api = scriptApi((request) =>
      request.authorization === 'Bearer good' ? generating() : apiError(401, 'unauthorized'),
    );
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, token: 'bad' });
    await nextEvent(player, PlayerEventName.error);
    player.token = 'good';
    const event = await nextEvent<CustomEvent<NotetakerStatusDetail>>(player, PlayerEventName.status);
    equal(event.detail.status, 'preparing', 'status after new token');
  });

  it('aborts the /stream request in flight on disconnect and loads again on reconnect', async () => {
    api = scriptApi(never);
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base });
    const stream = api;
    await waitFor(() => stream.requests.length === 1, 'first request');
    player.remove();
    await waitFor(() => stream.inFlight() === 0, 'request aborted');
    assert(stream.requests[0]!.aborted, 'first request aborted');
    document.body.append(player);
    await waitFor(() => stream.requests.length === 2, 'second request after reconnect');
    equal(player.state, 'loading', 'state while waiting');
  });

  it('lets slotted content replace the preparing and error content', async () => {
    api = scriptApi(() => generating());
    const player = createPlayer(
      { 'video-id': VIDEO, 'api-base': api.base },
      '<p slot="preparing">Hang on</p><p slot="error">Custom failure</p>',
    );
    await nextEvent(player, PlayerEventName.status);
    await player.updateComplete;
    const preparing = player.shadowRoot!.querySelector<HTMLSlotElement>('slot[name=preparing]')!;
    equal(preparing.assignedElements()[0]?.textContent, 'Hang on', 'preparing slot');
    assert(!player.shadowRoot!.querySelector('slot[name=error]'), 'no error slot while preparing');
    api.restore();
    api = scriptApi(() => apiError(404, 'not_found'));
    player.videoId = '00000000-0000-4000-8000-000000000000';
    await nextEvent(player, PlayerEventName.error);
    await player.updateComplete;
    const error = player.shadowRoot!.querySelector<HTMLSlotElement>('slot[name=error]')!;
    equal(error.assignedElements()[0]?.textContent, 'Custom failure', 'error slot');
    assert(player.shadowRoot!.querySelector('[part=retry-button]'), 'Retry kept next to slotted content');
  });

  it('passes <track> children through to the inner video', async () => {
    const player = createPlayer(
      {},
      '<track kind="captions" srclang="en" label="English" src="data:text/vtt,WEBVTT">',
    );
    await player.updateComplete;
    equal(player.media.querySelectorAll('track').length, 1, 'tracks copied');
    player.insertAdjacentHTML(
      'beforeend',
      '<track kind="subtitles" srclang="fr" label="Français" src="data:text/vtt,WEBVTT">',
    );
    await waitFor(() => player.media.querySelectorAll('track').length === 2, 'added track copied');
    player.querySelector('track')!.remove();
    await waitFor(() => player.media.querySelectorAll('track').length === 1, 'removed track removed');
    equal(player.media.querySelector('track')?.getAttribute('srclang'), 'fr', 'remaining track');
  });

  it('mirrors attributes to properties and to the inner video', async () => {
    const player = createPlayer({
      muted: '',
      loop: '',
      poster: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=',
      preload: 'metadata',
      crossorigin: 'anonymous',
      'start-time': '12.5',
      autoplay: 'any',
      'prefer-playback': 'native',
    });
    await player.updateComplete;
    equal(player.muted, true, 'muted');
    equal(player.loop, true, 'loop');
    equal(player.startTime, 12.5, 'startTime');
    equal(player.autoplay, 'any', 'autoplay');
    equal(player.preferPlayback, 'native', 'preferPlayback');
    equal(player.media.muted, true, 'video muted');
    equal(player.media.loop, true, 'video loop');
    equal(player.media.getAttribute('poster'), 'data:image/gif;base64,R0lGODlhAQABAAAAACw=', 'video poster');
    equal(player.media.getAttribute('preload'), 'metadata', 'video preload');
    equal(player.media.getAttribute('crossorigin'), 'anonymous', 'video crossorigin');
    player.removeAttribute('poster');
    await player.updateComplete;
    assert(!player.media.hasAttribute('poster'), 'poster removed');
  });
});
