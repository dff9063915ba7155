// The seek watchdog in the element, with a seek forced to stay pending (as WebKit sometimes leaves one before the
// first frame): the element seeks once more and plays on, or stops on `seek_stalled` if that sticks too.
import '../src/define.js';
import type { NotetakerErrorDetail } from '../src/constants.js';
import type { NotetakerPlayerElement } from '../src/notetaker-player.js';
import {
  createPlayer,
  equal,
  FIXTURE_HLS_URL,
  nextEvent,
  ready,
  scriptApi,
  waitFor,
  type ScriptedApi,
} from './support/browser.js';

let api: ScriptedApi | undefined;

afterEach(() => {
  api?.restore();
  api = undefined;
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

/**
 * Makes the next `stuckSeeks` seeks of `video` hang: `seeking` stays true and the media never moves, as in the
 * WebKit bug (`currentTime` reads the target meanwhile). Later seeks go to the browser. Returns every time set.
 */
function forceStuckSeeks(video: HTMLVideoElement, stuckSeeks: number): number[] {
  const proto = HTMLMediaElement.prototype;
  const time = Object.getOwnPropertyDescriptor(proto, 'currentTime')!;
  const seeking = Object.getOwnPropertyDescriptor(proto, 'seeking')!;
  const seeks: number[] = [];
  let stuck = false;
  let target = 0;
  // Loading the media again (the element's teardown does) drops a pending seek, stuck or not.
  video.addEventListener('emptied', () => (stuck = false));
  Object.defineProperty(video, 'seeking', {
    configurable: true,
    get: () => stuck || seeking.get!.call(video),
  });
  Object.defineProperty(video, 'currentTime', {
    configurable: true,
    // A pending seek reports its target, as the browser does.
    get: () => (stuck ? target : time.get!.call(video)),
    set: (value: number) => {
      seeks.push(value);
      if (seeks.length <= stuckSeeks) {
        stuck = true;
        target = value;
        video.dispatchEvent(new Event('seeking'));
      } else {
        stuck = false;
        time.set!.call(video, value);
      }
    },
  });
  return seeks;
}

async function readyPlayer(): Promise<NotetakerPlayerElement> {
  api = scriptApi(() => ready(FIXTURE_HLS_URL));
  const player = createPlayer({ 'video-id': 'v', 'api-base': api.base, muted: '' });
  await nextEvent(player, 'canplay', 15_000);
  const { media } = player;
  await waitFor(() => media.buffered.length && media.buffered.end(0) >= 3, 'buffered up to 3 s', 15_000);
  return player;
}

describe('seek watchdog', () => {
  it('seeks once more when a seek stays pending with its target buffered, and the seek lands', async function () {
    this.timeout(40_000);
    const player = await readyPlayer();
    const seeks = forceStuckSeeks(player.media, 1);
    player.currentTime = 2;
    await nextEvent(player, 'seeked', 10_000);
    equal(JSON.stringify(seeks), JSON.stringify([2, 2]), 'seeks');
    equal(Math.round(player.media.currentTime), 2, 'position');
    equal(player.state, 'ready', 'state');
  });

  it('stops on seek_stalled when the second seek sticks too, and Retry loads at the chosen time', async function () {
    this.timeout(60_000);
    const player = await readyPlayer();
    const seeks = forceStuckSeeks(player.media, 2);
    player.currentTime = 2.5;
    const { detail } = await nextEvent<CustomEvent<NotetakerErrorDetail>>(player, 'notetaker-error', 15_000);
    equal(detail.code, 'seek_stalled', 'code');
    equal(JSON.stringify(seeks), JSON.stringify([2.5, 2.5]), 'seeks');
    equal(player.state, 'error', 'state');
    player.retry();
    await waitFor(
      () => player.state === 'ready' && Math.abs(player.media.currentTime - 2.5) < 0.2,
      () => `ready at 2.5 s (state ${player.state}, at ${player.media.currentTime})`,
      15_000,
    );
  });
});
