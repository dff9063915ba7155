// Picking up renditions, captions and chapters that arrive after a video is ready (refresh() and the player's own
// re-checks while playing), in every engine, on the ffmpeg-made two-rendition fixture: a player loads its 360p
// rendition alone (as /stream hands out before a lower rung or a caption exists), then /stream answers with the
// master playlist (360p, 180p and a German subtitle rendition).
import '../src/define.js';
import type { NotetakerTracksChangeDetail } from '../src/constants.js';
import type { NotetakerPlayerElement } from '../src/notetaker-player.js';
import { playerTiming } from '../src/player-timing.js';
import {
  assert,
  createPlayer,
  currentEngine,
  equal,
  nextEvent,
  ready,
  scriptApi,
  trackHls,
  waitFor,
  type ApiAnswer,
  type ScriptedApi,
} from './support/browser.js';

const VIDEO = '0f6b8a52-3c1d-4e7f-9a2b-6c5d4e3f2a10';
const QUALITY = new URL('/.tmp/fixtures/quality/', location.href).href;
const CHAPTERS_VTT =
  'WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nIntro\n\n00:00:04.000 --> 00:00:08.000\nBudget\n';

let api: ScriptedApi | undefined;
let tokens = 0;
const timing = { ...playerTiming };
let restoreHls: (() => void) | undefined;
let cleanup: (() => void) | undefined;

afterEach(() => {
  api?.restore();
  api = undefined;
  restoreHls?.();
  restoreHls = undefined;
  cleanup?.();
  cleanup = undefined;
  Object.assign(playerTiming, timing);
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

/** A ready answer as the server gives it: every answer carries a fresh playback token. */
function answer(path: string, extra: Record<string, unknown> = {}): ApiAnswer {
  const token = `t${++tokens}`;
  const base = ready(`${QUALITY}${path}?token=${token}`);
  return { ...base, body: { ...(base.body as object), ...extra } };
}

const streamRequests = () => api!.requests.filter((request) => request.path.endsWith('/stream')).length;

/** Mounts a player playing (muted) what `current()` answers, and waits until it played past `seconds`. */
async function playing(
  current: () => ApiAnswer,
  seconds = 1,
  attributes: Record<string, string> = {},
): Promise<NotetakerPlayerElement> {
  api = scriptApi(current);
  const player = createPlayer({
    'video-id': VIDEO,
    'api-base': api.base,
    muted: '',
    autoplay: 'muted',
    'disable-analytics': '',
    ...attributes,
  });
  await waitFor(() => player.media.currentTime > seconds, `played past ${seconds} s`, 20_000);
  return player;
}

/** Records what would show a restart: the media element emptied or loading again, the position going back. */
/**
 * Pauses `player` and answers where it has come to rest. WebKitGTK still moves `currentTime` for a moment after
 * `pause`, and now and then leaves `paused` again by itself shortly after a quality switch, with no `play` event
 * (seen before any refresh): pause again until the player stays paused and still for half a second.
 */
async function pausedAtRest(player: NotetakerPlayerElement): Promise<number> {
  const media = player.media;
  let last = Number.NaN;
  for (let i = 0; i < 40; i++) {
    if (!player.paused) player.pause();
    const now = media.paused && !media.seeking ? media.currentTime : Number.NaN;
    if (now === last) return now;
    last = now;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the player did not come to rest paused (last ${last})`);
}

function watchRestarts(player: NotetakerPlayerElement): () => string[] {
  const seen: string[] = [];
  let last = player.media.currentTime;
  for (const type of ['emptied', 'loadstart', 'abort']) {
    player.media.addEventListener(type, () => seen.push(type));
  }
  player.media.addEventListener('timeupdate', () => {
    const now = player.media.currentTime;
    if (now < last - 0.05) seen.push(`back from ${last} to ${now}`);
    last = now;
  });
  return () => seen;
}

describe('refresh()', () => {
  it('brings a new quality and a new caption track while playing, without a restart', async () => {
    const hls = await trackHls();
    restoreHls = hls.restore;
    let current = answer('360p/playlist.m3u8');
    const player = await playing(() => current);
    equal(player.qualityLevels.length, 1, 'one rendition at first');
    equal(player.captionTracks.length, 0, 'no captions at first');
    const source = player.media.currentSrc;
    const restarts = watchRestarts(player);

    current = answer('master.m3u8');
    const event = nextEvent(player, 'notetaker-trackschange');
    const from = player.media.currentTime;
    equal(await player.refresh(), true, 'refresh() resolves to "changed"');
    const { detail } = (await event) as CustomEvent<NotetakerTracksChangeDetail>;
    equal(JSON.stringify(detail), '{"qualityLevels":true,"captionTracks":true,"chapters":false}', 'detail');
    equal(player.qualityLevels.map((level) => level.height).join(), '180,360', 'both renditions');
    equal(player.captionTracks.map((track) => track.language).join(), 'de', 'the German captions');
    equal(player.paused, false, 'still playing');

    await waitFor(() => player.media.currentTime > from + 1.5, 'played on after the refresh', 15_000);
    await waitFor(() => player.activeQualityLevel >= 0, 'a rendition of the new playlist plays');
    equal(restarts().join(', '), '', 'no restart');
    equal(player.media.currentSrc, source, 'the same media source');
    equal(hls.live.size, 1, 'one hls.js instance');

    player.captionTrack = 0;
    await waitFor(
      () => [...player.media.textTracks].some((track) => track.mode === 'showing' && track.cues?.length),
      'the new captions show when chosen',
    );
  });

  it('keeps a paused player paused where it was, the chosen quality and the captions shown', async () => {
    let current = answer('master.m3u8');
    const player = await playing(() => current);
    const de = player.captionTracks.findIndex((track) => track.language === 'de');
    player.captionTrack = de;
    await waitFor(() => player.captionTrack === de, 'captions shown');
    const level360 = player.qualityLevels.findIndex((level) => level.height === 360);
    player.qualityLevel = level360;
    await waitFor(() => player.activeQualityLevel === level360, 'the chosen quality plays');
    const at = await pausedAtRest(player);

    // The same renditions and captions plus chapters: nothing to switch, only the chapters change.
    current = answer('master.m3u8', { chapters_url: `data:text/vtt,${encodeURIComponent(CHAPTERS_VTT)}` });
    equal(await player.refresh(), true, 'chapters are new');
    equal(player.chapters.map((chapter) => chapter.title).join(), 'Intro,Budget', 'chapters');
    equal(player.paused, true, 'still paused');
    equal(player.media.currentTime, at, 'at the same time');
    equal(player.captionTrack, de, 'captions still shown');
    equal(player.qualityLevel, level360, 'quality still chosen');
    equal(await player.refresh(), false, 'a second refresh finds nothing new');
  });
});

describe('refresh() with native HLS', () => {
  it('keeps the playlist native HLS plays and still takes the chapters (hls.js where there is no native HLS)', async () => {
    let current = answer('360p/playlist.m3u8');
    const player = await playing(() => current, 1, { 'prefer-playback': 'native' });
    // Only Chromium has native HLS here; Firefox and WebKitGTK fall back to hls.js (a blob: media source, set as a
    // <source> child with ManagedMediaSource).
    const native = !player.media.currentSrc.startsWith('blob:');
    equal(native, currentEngine() === 'chromium', 'native HLS in Chromium only');
    const restarts = watchRestarts(player);
    current = answer('master.m3u8', { chapters_url: `data:text/vtt,${encodeURIComponent(CHAPTERS_VTT)}` });
    equal(await player.refresh(), true, 'the chapters are new');
    equal(player.chapters.length, 2, 'chapters');
    equal(player.qualityLevels.length, native ? 0 : 2, 'renditions: native HLS chooses itself');
    equal(
      player.captionTracks.length,
      native ? 0 : 1,
      'captions: native HLS keeps its playlist until the next load',
    );
    equal(player.paused, false, 'still playing');
    equal(restarts().join(', '), '', 'no restart');
  });
});

describe('re-checks while playing', () => {
  it('picks up what arrived on its own, then stops once nothing changes any more', async () => {
    Object.assign(playerTiming, { refreshFirstMs: 100, refreshMaxMs: 200, refreshSettleChecks: 3 });
    const changes: NotetakerTracksChangeDetail[] = [];
    let requestsAtChange = 0;
    const onChange = (event: Event) => {
      changes.push((event as CustomEvent<NotetakerTracksChangeDetail>).detail);
      requestsAtChange = streamRequests();
    };
    document.addEventListener('notetaker-trackschange', onChange);
    cleanup = () => document.removeEventListener('notetaker-trackschange', onChange);
    // The load gets the 360p rendition alone; by the first re-check the master playlist is there.
    const player = await playing(
      () => answer(streamRequests() > 1 ? 'master.m3u8' : '360p/playlist.m3u8'),
      0.3,
    );
    const restarts = watchRestarts(player);
    await waitFor(() => changes.length === 1, 'the new renditions and captions found without refresh()');
    equal(player.qualityLevels.length, 2, 'both renditions');
    equal(player.captionTracks.length, 1, 'the captions');

    // Three re-checks in a row find nothing new: the stream is taken as final and no more requests go out.
    await waitFor(() => streamRequests() === requestsAtChange + 3, 'three more re-checks', 10_000);
    await waitFor(() => api!.inFlight() === 0, 'the last re-check answered');
    const requests = streamRequests();
    const at = player.media.currentTime;
    await waitFor(() => player.media.currentTime > at + 1.5 || player.ended, 'playback went on', 15_000);
    equal(streamRequests(), requests, 'no re-check once final');
    equal(changes.length, 1, 'one change');
    equal(restarts().join(', '), '', 'no restart');
    assert(!player.paused || player.ended, 'played through');
  });

  it('asks nothing while paused', async () => {
    Object.assign(playerTiming, { refreshFirstMs: 100, refreshMaxMs: 100 });
    const player = await playing(() => answer('master.m3u8'), 0.3);
    player.pause();
    await waitFor(() => player.paused, 'paused');
    const requests = streamRequests();
    const since = performance.now();
    // A re-check in flight when pausing may still land; after that, none.
    await waitFor(() => api!.inFlight() === 0 && performance.now() - since > 1000, 'a second paused');
    const settled = streamRequests();
    assert(settled <= requests + 1, 'at most the re-check in flight');
    await waitFor(() => performance.now() - since > 2000, 'another second paused');
    equal(streamRequests(), settled, 'no re-check while paused');
  });
});
