// The player's viewing reports in Chromium: what it sends when it is removed, and nothing with disable-analytics.
import '../src/define.js';
import type { NotetakerPlayerElement } from '../src/notetaker-player.js';
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
