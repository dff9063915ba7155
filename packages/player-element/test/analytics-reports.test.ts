// The player's viewing reports in every engine: what it sends when it is removed, the periodic reports while playing
// (with a shortened interval) and the last one on page hide, rendition switches on the two-rendition fixture, and
// nothing with disable-analytics.
import '../src/define.js';
import type { NotetakerPlayerElement } from '../src/notetaker-player.js';
import { playerTiming } from '../src/player-timing.js';
import {
  assert,
  createPlayer,
  equal,
  FIXTURE_HLS_URL,
  ready,
  scriptApi,
  waitFor,
  type ScriptedApi,
} from './support/browser.js';

const VIDEO = '0f6b8a52-3c1d-4e7f-9a2b-6c5d4e3f2a10';
/** The fixture's playlist with a playback token, as the server hands it out; reports go beside it. */
const HLS_URL = `${FIXTURE_HLS_URL}?token=playback-token`;
const REPORT_URL = new URL('analytics?token=playback-token', FIXTURE_HLS_URL).href;
const QUALITY_HLS_URL = new URL('/.tmp/fixtures/quality/master.m3u8?token=playback-token', location.href)
  .href;
const timing = { ...playerTiming };

interface Report {
  session_id: string;
  watched: Array<[number, number]>;
  rendition_switches: number;
  final: boolean;
  [key: string]: unknown;
}

/** Reports sent with `fetch` (the periodic ones), answered 204 as the server does. */
let fetched: Array<{ url: string; body: string }> = [];
let restoreFetch: (() => void) | undefined;

function captureFetchedReports(): void {
  const original = window.fetch;
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    if (init?.method === 'POST' && String(input).includes('/analytics?token=')) {
      fetched.push({ url: String(input), body: String(init.body) });
      return Promise.resolve(new Response(null, { status: 204 }));
    }
    return original(input, init);
  };
  restoreFetch = () => {
    window.fetch = original;
  };
}

let api: ScriptedApi | undefined;
let beacons: Array<{ url: string; body: string }> = [];
const originalBeacon = navigator.sendBeacon.bind(navigator);

beforeEach(() => {
  beacons = [];
  navigator.sendBeacon = (url: string | URL, body?: BodyInit | null) => {
    beacons.push({ url: String(url), body: String(body) });
    return true;
  };
});

afterEach(() => {
  restoreFetch?.();
  restoreFetch = undefined;
  fetched = [];
  Object.assign(playerTiming, timing);
  navigator.sendBeacon = originalBeacon;
  api?.restore();
  api = undefined;
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

async function playAWhile(attributes: Record<string, string> = {}): Promise<NotetakerPlayerElement> {
  api = scriptApi(() => ready(HLS_URL));
  const player = createPlayer({
    'video-id': VIDEO,
    'api-base': api.base,
    muted: '',
    autoplay: 'muted',
    ...attributes,
  });
  await waitFor(() => player.media.currentTime > 1.2, 'played past 1.2 s', 15_000);
  return player;
}

describe('viewing reports', () => {
  it('sends the session with sendBeacon when the player goes away', async () => {
    const player = await playAWhile();
    player.remove();
    equal(beacons.length, 1, 'one last report');
    const [beacon] = beacons;
    equal(beacon!.url, REPORT_URL, 'beside the playlist, with its playback token');
    const report = JSON.parse(beacon!.body) as Record<string, unknown>;
    assert(/^[0-9a-f-]{36}$/.test(report['session_id'] as string), 'a session id');
    assert((report['startup_ms'] as number) > 0, 'startup time measured');
    equal((report['watched'] as number[][])[0]![0], 0, 'watched from 0');
    assert((report['watched'] as number[][])[0]![1]! >= 2, 'at least seconds 0 and 1');
    equal(JSON.stringify(report['rewatched']), '[]', 'nothing watched again');
    equal(report['final'], true, 'the last report');
    equal(report['error_code'], null, 'no error');
  });

  it('sends nothing with disable-analytics', async () => {
    const player = await playAWhile({ 'disable-analytics': '' });
    equal(player.disableAnalytics, true, 'property');
    player.remove();
    document.dispatchEvent(new Event('visibilitychange'));
    equal(beacons.length, 0, 'no report');
  });
});

describe('viewing reports over time', () => {
  it('reports the session periodically while playing, then finally on page hide and removal, under one session id', async () => {
    playerTiming.analyticsFlushMs = 250;
    const player = await playAWhile();
    captureFetchedReports();
    await waitFor(() => fetched.length >= 2, 'two periodic reports', 10_000);
    const periodic = fetched.map(({ body }) => JSON.parse(body) as Report);
    equal(fetched[0]!.url, REPORT_URL, 'beside the playlist, with its playback token');
    assert(
      periodic.every((report) => report.final === false),
      'periodic reports are not final',
    );
    const id = periodic[0]!.session_id;
    assert(/^[0-9a-f-]{36}$/.test(id), 'a session id');
    assert(
      periodic.every((report) => report.session_id === id),
      'one session id',
    );
    const watchedEnd = (report: Report) => report.watched[report.watched.length - 1]?.[1] ?? 0;
    await waitFor(
      () => watchedEnd(JSON.parse(fetched[fetched.length - 1]!.body) as Report) > watchedEnd(periodic[0]!),
      'a later report covers more of the video',
      10_000,
    );
    equal(beacons.length, 0, 'no beacon while the page is shown');

    window.dispatchEvent(new Event('pagehide'));
    equal(beacons.length, 1, 'a beacon on page hide');
    const hidden = JSON.parse(beacons[0]!.body) as Report;
    equal(hidden.final, true, 'final on page hide');
    equal(hidden.session_id, id, 'the same session');

    player.remove();
    equal(beacons.length, 2, 'and one when the player goes away');
    const last = JSON.parse(beacons[1]!.body) as Report;
    equal(last.session_id, id, 'still the same session');
    equal(last.final, true, 'final');
    assert(watchedEnd(last) >= watchedEnd(hidden), 'the last report covers at least as much');
  });

  it('counts a forced rendition switch', async () => {
    api = scriptApi(() => ready(QUALITY_HLS_URL));
    const player = createPlayer({
      'video-id': VIDEO,
      'api-base': api.base,
      muted: '',
      autoplay: 'muted',
    });
    // A small forward buffer, so that a switch reaches the screen within a second or two; no automatic switches.
    player.hlsConfig = { maxBufferLength: 2, maxMaxBufferLength: 2, capLevelToPlayerSize: false };
    player.qualityLevel = 0;
    await waitFor(
      () => player.media.currentTime > 0.5 && player.activeQualityLevel === 0,
      'playing the lowest',
    );
    equal(player.qualityLevels[0]!.height, 180, 'the lowest rendition first');
    player.qualityLevel = 1;
    await waitFor(() => player.activeQualityLevel === 1, 'the 360p rendition plays', 15_000);
    const at = player.media.currentTime;
    await waitFor(() => player.media.currentTime > at + 0.5 || player.ended, 'played on in 360p', 15_000);
    player.remove();
    const report = JSON.parse(beacons[beacons.length - 1]!.body) as Report;
    equal(report.rendition_switches, 1, 'one rendition switch');
  });
});

describe('show-heatmap', () => {
  const RETENTION = [1, 1, 1, 0.5, 0.5, 0.25, 0, 0];

  async function mountWith(attributes: Record<string, string>, analytics: { status: number; body: unknown }) {
    api = scriptApi((request) => (request.path.endsWith('/analytics') ? analytics : ready(FIXTURE_HLS_URL)));
    const player = createPlayer({
      'video-id': VIDEO,
      'api-base': api.base,
      token: 'owner-token',
      muted: '',
      ...attributes,
    });
    await waitFor(() => player.state === 'ready', 'ready', 15_000);
    await player.updateComplete;
    return player;
  }

  it("asks for the owner's analytics with the user's token and shows a strip above the seek bar", async () => {
    const player = await mountWith({ 'show-heatmap': '' }, { status: 200, body: { retention: RETENTION } });
    await waitFor(() => player.heatmap.length === RETENTION.length, 'retention loaded');
    await player.updateComplete;
    const request = api!.requests.find((r) => r.path === `/api/videos/${VIDEO}/analytics`);
    equal(request?.authorization, 'Bearer owner-token', 'with the user token');
    const strip = player.shadowRoot!.querySelector<HTMLElement>('[part~=heatmap]');
    assert(strip, 'the strip is rendered');
    assert(getComputedStyle(strip).backgroundImage.startsWith('linear-gradient'), 'a gradient');
    const seek = player.shadowRoot!.querySelector('[part~=seek-bar]')!.getBoundingClientRect();
    assert(strip.getBoundingClientRect().bottom <= seek.top + 1, 'above the seek bar');
  });

  it('shows nothing to someone who is not the owner, and asks nothing without the attribute', async () => {
    const stranger = await mountWith(
      { 'show-heatmap': '' },
      { status: 404, body: { error: { code: 'not_found', message: 'x' } } },
    );
    await waitFor(() => api!.requests.some((r) => r.path.endsWith('/analytics')), 'asked');
    await stranger.updateComplete;
    equal(stranger.shadowRoot!.querySelector('[part~=heatmap]'), null, 'no strip');
    stranger.remove();
    api!.restore();
    const plain = await mountWith({}, { status: 200, body: { retention: RETENTION } });
    equal(api!.requests.filter((r) => r.path.endsWith('/analytics')).length, 0, 'no analytics request');
    equal(plain.heatmap.length, 0, 'no heatmap');
  });
});
