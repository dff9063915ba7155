// A muted video stays muted, and playing, when the player changes its playback rate: WebKitGTK's GStreamer player
// unmutes the video as it applies a rate other than 1, and WebKit's autoplay policy then pauses a muted autoplay that
// became audible.
import '../src/define.js';
import { sendMouse } from '@web/test-runner-commands';
import type { NotetakerPlayerElement } from '../src/notetaker-player.js';
import {
  assert,
  createPlayer,
  equal,
  FIXTURE_HLS_URL,
  nextEvent,
  ready,
  scriptApi,
  waitFor,
  type ScriptedApi,
} from './support/browser.js';

const VIDEO = '3e9d1c7a-5b2f-4a8e-9c6d-2f1e0d3c4b5a';

let api: ScriptedApi | undefined;

afterEach(() => {
  api?.restore();
  api = undefined;
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

async function mutedAutoplay(): Promise<{ player: NotetakerPlayerElement; unmutes: number[] }> {
  api = scriptApi(() => ready(FIXTURE_HLS_URL));
  const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, autoplay: 'muted' });
  const unmutes: number[] = [];
  player.addEventListener('volumechange', () => {
    if (!player.media.muted) unmutes.push(player.media.currentTime);
  });
  await nextEvent(player, 'playing');
  await waitFor(() => player.media.currentTime > 0.2, 'playing past 0.2 s');
  return { player, unmutes };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Still muted, never heard, and playing: the position advances at about `rate`. */
async function expectMutedAndPlaying(
  player: NotetakerPlayerElement,
  unmutes: number[],
  rate: number,
): Promise<void> {
  await sleep(1800);
  equal(player.playbackRate, rate, 'rate');
  equal(player.media.muted, true, 'video muted');
  equal(player.muted, true, 'muted property');
  equal(unmutes.length, 0, 'volumechange events that found the video unmuted');
  const before = player.media.currentTime;
  await sleep(800);
  equal(player.paused, false, 'playing');
  const advanced = player.media.currentTime - before;
  assert(advanced > 0.5 * rate * 0.8, `the position advanced (${advanced.toFixed(2)} s in 0.8 s)`);
}

describe('playback rate of a muted video', () => {
  it('stays muted and playing when a script speeds up a muted autoplay', async () => {
    const { player, unmutes } = await mutedAutoplay();
    player.playbackRate = 2;
    await expectMutedAndPlaying(player, unmutes, 2);
  });

  it('stays muted and playing when the viewer picks a speed in the control bar', async () => {
    const { player, unmutes } = await mutedAutoplay();
    await player.updateComplete;
    const button = player.shadowRoot!.querySelector<HTMLElement>('[part~=rate-button]')!;
    const click = async (element: Element) => {
      const box = element.getBoundingClientRect();
      await sendMouse({
        type: 'click',
        position: [Math.round(box.left + box.width / 2), Math.round(box.top + box.height / 2)],
      });
    };
    await click(button);
    await player.updateComplete;
    const item = [...player.shadowRoot!.querySelectorAll('[role=menuitemradio]')].find(
      (element) => element.textContent!.trim() === '1.5×',
    );
    assert(item, 'the 1.5× item');
    await click(item);
    await expectMutedAndPlaying(player, unmutes, 1.5);
  });

  it('stays muted and playing when a muted autoplay starts at a kept rate', async () => {
    api = scriptApi(() => ready(FIXTURE_HLS_URL));
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, autoplay: 'muted' });
    player.playbackRate = 2;
    const unmutes: number[] = [];
    player.addEventListener('volumechange', () => {
      if (!player.media.muted) unmutes.push(player.media.currentTime);
    });
    await nextEvent(player, 'playing');
    await expectMutedAndPlaying(player, unmutes, 2);
  });

  it('keeps a pause the page asks for right after a rate change', async () => {
    const { player } = await mutedAutoplay();
    player.playbackRate = 2;
    player.pause();
    await sleep(1800);
    equal(player.paused, true, 'paused');
    equal(player.media.muted, true, 'video muted');
  });

  it('keeps an unmute the page asks for after a rate change', async () => {
    const { player } = await mutedAutoplay();
    player.playbackRate = 2;
    await sleep(100);
    player.muted = false;
    await sleep(1800);
    equal(player.media.muted, false, 'video unmuted');
    equal(player.muted, false, 'muted property');
  });
});
