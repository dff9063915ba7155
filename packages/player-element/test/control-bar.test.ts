// The control bar in every engine, driven by real mouse and keyboard input, on HLS fixtures made by ffmpeg.
import '../src/define.js';
import { resetMouse, sendKeys, sendMouse } from '@web/test-runner-commands';
import { findStoryboardCue, parseStoryboard } from '../src/controls/storyboard.js';
import { formatTime, spokenTime } from '../src/controls/format-time.js';
import type { NotetakerPlayerElement } from '../src/notetaker-player.js';
import {
  assert,
  createPlayer,
  currentEngine,
  equal,
  expectNoAxeViolations,
  FIXTURE_HLS_URL,
  ready,
  scriptApi,
  trackHls,
  waitFor,
  type ScriptedApi,
} from './support/browser.js';

const VIDEO = '0f6b8a52-3c1d-4e7f-9a2b-6c5d4e3f2a10';
const QUALITY_HLS_URL = new URL('/.tmp/fixtures/quality/master.m3u8', location.href).href;
const STORYBOARD_URL = new URL('/.tmp/fixtures/storyboard/storyboard.vtt', location.href).href;
const SPRITE_URL = new URL('/.tmp/fixtures/storyboard/sprite.jpg', location.href).href;
const CAPTIONS = '<track kind="captions" srclang="en" label="English" src="data:text/vtt,WEBVTT">';

let api: ScriptedApi | undefined;
let cleanup: (() => void) | undefined;

afterEach(async () => {
  api?.restore();
  api = undefined;
  cleanup?.();
  cleanup = undefined;
  await resetMouse();
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
  for (const field of document.querySelectorAll('.host-field')) field.remove();
});

/** Mounts a player whose /stream answers `ready` with `url`, and waits until it can play. */
async function mountReady(
  url = FIXTURE_HLS_URL,
  attributes: Record<string, string> = {},
  children = '',
  answer: Record<string, unknown> = {},
): Promise<NotetakerPlayerElement> {
  api = scriptApi(() => {
    const base = ready(url);
    return { ...base, body: { ...(base.body as object), ...answer } };
  });
  const player = createPlayer(
    { 'video-id': VIDEO, 'api-base': api.base, muted: '', ...attributes },
    children,
  );
  await waitFor(() => player.state === 'ready', 'ready', 15_000);
  await player.updateComplete;
  return player;
}

function part<E extends HTMLElement = HTMLElement>(player: NotetakerPlayerElement, name: string): E {
  const element = player.shadowRoot!.querySelector<E>(`[part~='${name}']`);
  assert(element, `part ${name} rendered`);
  return element;
}

const maybePart = (player: NotetakerPlayerElement, name: string) =>
  player.shadowRoot!.querySelector<HTMLElement>(`[part~='${name}']`);

/** Viewport point at `fx`, `fy` (0–1) of the element's box. */
function pointIn(element: Element, fx = 0.5, fy = 0.5): [number, number] {
  const box = element.getBoundingClientRect();
  return [Math.round(box.left + box.width * fx), Math.round(box.top + box.height * fy)];
}

async function click(element: Element, fx = 0.5): Promise<void> {
  await sendMouse({ type: 'click', position: pointIn(element, fx) });
}

function menuItems(player: NotetakerPlayerElement): HTMLElement[] {
  return [...player.shadowRoot!.querySelectorAll<HTMLElement>('[role=menu] [role=menuitemradio]')];
}

async function openMenu(player: NotetakerPlayerElement, button: string): Promise<HTMLElement[]> {
  await click(part(player, button));
  await player.updateComplete;
  equal(part(player, button).getAttribute('aria-expanded'), 'true', `${button} expanded`);
  return menuItems(player);
}

const labels = (items: HTMLElement[]) => items.map((item) => item.textContent!.trim()).join(',');
const checked = (items: HTMLElement[]) =>
  items
    .filter((item) => item.getAttribute('aria-checked') === 'true')
    .map((item) => item.textContent!.trim())
    .join();

describe('control bar', () => {
  it('plays and pauses from the play button and from a click on the video', async () => {
    const player = await mountReady();
    const play = part(player, 'play-button');
    equal(play.getAttribute('aria-label'), 'Play', 'label while paused');
    await click(play);
    await waitFor(() => !player.paused && player.currentTime > 0.2, 'playing after a click on Play');
    await player.updateComplete;
    equal(play.getAttribute('aria-label'), 'Pause', 'label while playing');
    await sendMouse({ type: 'click', position: pointIn(player, 0.5, 0.3) });
    await waitFor(() => player.paused, 'paused after a click on the video');
  });

  it('seeks where the seek bar is clicked and tells assistive technology where it is', async () => {
    const player = await mountReady();
    const seek = part(player, 'seek-bar');
    await click(seek, 0.75);
    await waitFor(() => Math.abs(player.currentTime - 6) < 0.3, `at 6 s (${player.currentTime})`);
    await player.updateComplete;
    equal(seek.getAttribute('role'), 'slider', 'role');
    equal(seek.getAttribute('aria-label'), 'Seek', 'name');
    equal(seek.getAttribute('aria-valuemax'), '8', 'max');
    equal(seek.getAttribute('aria-valuenow'), '6', 'now');
    equal(seek.getAttribute('aria-valuetext'), '6 seconds of 8 seconds', 'valuetext');
    assert(part(player, 'time-display').textContent!.includes('0:06 / 0:08'), 'time display');
  });

  it('plays, seeks, changes volume and mutes from the keyboard while the player has focus', async () => {
    const player = await mountReady();
    part(player, 'play-button').focus();
    await sendKeys({ press: 'k' });
    await waitFor(() => !player.paused, 'k plays');
    await sendKeys({ press: 'k' });
    await waitFor(() => player.paused, 'k pauses');
    // From a known position, so that 5 s forward stays inside the 8 s video however long it played above.
    player.currentTime = 1;
    await waitFor(() => Math.abs(player.currentTime - 1) < 0.1, `back at 1 s (${player.currentTime})`);
    const at = player.currentTime;
    await sendKeys({ press: 'ArrowRight' });
    assert(
      Math.abs(player.currentTime - (at + 5)) < 0.1,
      `→ seeks 5 s forward (${at} → ${player.currentTime})`,
    );
    await sendKeys({ press: 'ArrowLeft' });
    assert(Math.abs(player.currentTime - at) < 0.1, `← seeks 5 s back (${player.currentTime})`);
    player.muted = false;
    player.volume = 0.5;
    await sendKeys({ press: 'ArrowUp' });
    assert(Math.abs(player.volume - 0.6) < 0.01, `↑ raises the volume (${player.volume})`);
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'ArrowDown' });
    assert(Math.abs(player.volume - 0.4) < 0.01, `↓ lowers the volume (${player.volume})`);
    await sendKeys({ press: 'm' });
    equal(player.media.muted, true, 'm mutes');
    await player.updateComplete;
    equal(part(player, 'mute-button').getAttribute('aria-label'), 'Unmute', 'mute button label');
    await sendKeys({ press: 'm' });
    equal(player.media.muted, false, 'm unmutes');
    part(player, 'seek-bar').focus();
    await sendKeys({ press: ' ' });
    await waitFor(() => !player.paused, 'space plays from the seek bar');
    await sendKeys({ press: ' ' });
    await waitFor(() => player.paused, 'space pauses');
    await sendKeys({ press: 'End' });
    assert(
      Math.abs(player.currentTime - player.duration) < 0.1,
      `End on the seek bar (${player.currentTime})`,
    );
  });

  it('mutes and sets the volume with the mouse', async () => {
    const player = await mountReady();
    player.muted = false;
    await click(part(player, 'mute-button'));
    equal(player.media.muted, true, 'muted by the button');
    await click(part(player, 'mute-button'));
    equal(player.media.muted, false, 'unmuted by the button');
    await click(part(player, 'volume-slider'), 0.25);
    assert(Math.abs(player.volume - 0.25) < 0.1, `volume from the slider (${player.volume})`);
    await player.updateComplete;
    equal(
      part(player, 'volume-slider').getAttribute('aria-valuenow'),
      String(Math.round(player.volume * 100)),
      'value',
    );
  });

  it('ignores shortcuts while a field of the host page has focus', async () => {
    const player = await mountReady();
    document.body.insertAdjacentHTML(
      'beforeend',
      '<input class="host-field" aria-label="Name"><textarea class="host-field" aria-label="Notes"></textarea>' +
        '<div class="host-field" contenteditable="true" aria-label="Comment"></div>',
    );
    player.muted = false;
    for (const field of document.querySelectorAll<HTMLElement>('.host-field')) {
      field.focus();
      for (const press of ['k', ' ', 'm', 'ArrowRight', 'ArrowUp', 'c', 'f']) await sendKeys({ press });
      equal(player.paused, true, `still paused (${field.tagName})`);
      equal(player.media.muted, false, `not muted (${field.tagName})`);
      equal(player.currentTime, 0, `not seeked (${field.tagName})`);
      equal(document.fullscreenElement, null, `not fullscreen (${field.tagName})`);
      const typed = 'value' in field ? (field as HTMLInputElement).value : field.textContent;
      assert(
        ['k', 'm', 'c', 'f'].every((key) => typed!.includes(key)),
        `the keys reached the field (${JSON.stringify(typed)})`,
      );
    }
    part(player, 'seek-bar').focus();
    await sendKeys({ press: 'm' });
    equal(player.media.muted, true, 'the same key works once the player has focus');
  });

  it('changes the playback rate from its menu with the mouse and the keyboard', async () => {
    const player = await mountReady();
    const items = await openMenu(player, 'rate-button');
    equal(labels(items), '0.5×,0.75×,Normal,1.25×,1.5×,2×', 'rates');
    equal(checked(items), 'Normal', 'checked rate');
    equal(player.shadowRoot!.activeElement, items[2], 'focus on the checked item');
    await click(items[4]!);
    equal(player.playbackRate, 1.5, 'rate from a click');
    await player.updateComplete;
    equal(menuItems(player).length, 0, 'menu closed');
    const button = part(player, 'rate-button');
    equal(button.getAttribute('aria-expanded'), 'false', 'collapsed');
    equal(button.getAttribute('aria-label'), 'Playback speed: 1.5×', 'button names the rate');
    equal(player.shadowRoot!.activeElement, button, 'focus back on the button');
    await sendKeys({ press: 'Enter' });
    await player.updateComplete;
    equal(player.shadowRoot!.activeElement?.textContent!.trim(), '1.5×', 'Enter opens on the checked item');
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'Enter' });
    equal(player.playbackRate, 2, 'rate from the keyboard');
    await player.updateComplete;
    await sendKeys({ press: 'Enter' });
    await player.updateComplete;
    await sendKeys({ press: 'Escape' });
    await player.updateComplete;
    equal(menuItems(player).length, 0, 'Escape closes');
    equal(player.shadowRoot!.activeElement, button, 'Escape gives focus back to the button');
  });

  it('lists <track> children and the stream subtitles as captions and switches between them', async () => {
    const hls = await trackHls();
    cleanup = hls.restore;
    const player = await mountReady(QUALITY_HLS_URL, {}, CAPTIONS);
    await waitFor(() => player.captionTracks.length === 2, 'both caption tracks listed');
    await player.updateComplete;
    const items = await openMenu(player, 'captions-button');
    equal(labels(items), 'Off,English,Deutsch', 'captions');
    equal(checked(items), 'Off', 'none shown');
    await click(items[1]!);
    const english = [...player.media.textTracks].find((track) => track.label === 'English')!;
    equal(english.mode, 'showing', 'English shown');
    equal(player.captionTrack, 0, 'captionTrack');
    part(player, 'captions-button').focus();
    await sendKeys({ press: 'c' });
    equal(player.captionTrack, -1, 'c turns captions off');
    equal(english.mode, 'disabled', 'English hidden');
    await sendKeys({ press: 'c' });
    equal(player.captionTrack, 0, 'c turns the last captions on again');
    await click(part(player, 'captions-button'));
    await player.updateComplete;
    await click(menuItems(player)[2]!);
    const instance = [...hls.live][0] as { subtitleTrack: number; subtitleDisplay: boolean };
    equal(instance.subtitleTrack, 0, 'hls.js subtitle track');
    equal(instance.subtitleDisplay, true, 'hls.js displays subtitles');
    equal(english.mode, 'disabled', 'English off while Deutsch is shown');
    equal(player.captionTrack, 1, 'captionTrack');
    await player.updateComplete;
    equal(part(player, 'captions-button').getAttribute('aria-label'), 'Captions: CC', 'button name');
    assert(part(player, 'captions-button').hasAttribute('data-on'), 'button marked on');
  });

  it('shows the captions of the default-captions language at start', async () => {
    const player = await mountReady(QUALITY_HLS_URL, { 'default-captions': 'de' }, CAPTIONS);
    await waitFor(() => player.captionTrack === 1, `Deutsch chosen (${player.captionTrack})`);
    const english = [...player.media.textTracks].find((track) => track.label === 'English')!;
    equal(english.mode, 'disabled', 'English not shown');
    const deutsch = [...player.media.textTracks].find((track) => track.label === 'Deutsch');
    equal(deutsch?.mode, 'showing', 'Deutsch shown by the video');
  });

  it('offers Auto and each rendition in the quality menu and switches to the one chosen', async function () {
    this.timeout(40_000);
    const hls = await trackHls();
    cleanup = hls.restore;
    const player = await mountReady(QUALITY_HLS_URL, { autoplay: 'muted', loop: '' });
    await player.updateComplete;
    const items = await openMenu(player, 'quality-button');
    equal(labels(items), 'Auto,360p,180p', 'qualities');
    equal(checked(items), 'Auto', 'automatic by default');
    const levels = player.qualityLevels.map((level) => level.height);
    for (const height of [360, 180]) {
      if (!menuItems(player).length) await openMenu(player, 'quality-button');
      await click(menuItems(player).find((item) => item.textContent!.trim() === `${height}p`)!);
      equal(player.qualityLevel, levels.indexOf(height), `qualityLevel for ${height}p`);
      await waitFor(() => player.media.videoHeight === height, `${height}p playing`, 20_000);
      await waitFor(
        () => player.activeQualityLevel === levels.indexOf(height),
        `${height}p reported as playing`,
      );
      await player.updateComplete;
      equal(part(player, 'quality-button').getAttribute('aria-label'), `Quality: ${height}p`, 'button name');
    }
    await openMenu(player, 'quality-button');
    await click(menuItems(player)[0]!);
    equal(player.qualityLevel, -1, 'back to Auto');
    equal(([...hls.live][0] as { autoLevelEnabled: boolean }).autoLevelEnabled, true, 'hls.js chooses again');
  });

  it('has no quality menu for a stream with a single rendition', async () => {
    const player = await mountReady();
    equal(player.qualityLevels.length, 1, 'one level');
    equal(maybePart(player, 'quality-button'), null, 'quality button');
    equal(maybePart(player, 'captions-button'), null, 'captions button without captions');
  });

  it('shows a storyboard thumbnail and the time over the seek bar, on hover and while dragging', async () => {
    const player = await mountReady(FIXTURE_HLS_URL, { storyboard: STORYBOARD_URL });
    const seek = part(player, 'seek-bar');
    await waitFor(() => performance.getEntriesByName(STORYBOARD_URL).length, 'storyboard fetched');
    await sendMouse({ type: 'move', position: pointIn(seek, 0.4) });
    await player.updateComplete;
    const image = await waitFor(() => maybePart(player, 'preview-image'), 'thumbnail on hover');
    equal(part(player, 'preview-time').textContent, '0:03', 'time under the pointer');
    const style = getComputedStyle(image);
    assert(style.backgroundImage.includes(SPRITE_URL), `sprite (${style.backgroundImage})`);
    equal(style.backgroundPosition, '-160px 0px', 'region of the 3 s thumbnail');
    equal(style.width, '160px', 'thumbnail width');
    await waitFor(() => performance.getEntriesByName(SPRITE_URL).length, 'sprite loaded');
    equal(player.currentTime, 0, 'hovering does not seek');

    await sendMouse({ type: 'down' });
    await sendMouse({ type: 'move', position: pointIn(seek, 0.8) });
    await player.updateComplete;
    equal(part(player, 'preview-time').textContent, '0:06', 'time while dragging');
    equal(
      getComputedStyle(part(player, 'preview-image')).backgroundPosition,
      '-480px 0px',
      'dragged thumbnail',
    );
    await sendMouse({ type: 'up' });
    await waitFor(
      () => Math.abs(player.currentTime - 6.4) < 0.3,
      `seeked where the drag ended (${player.currentTime})`,
    );
    await sendMouse({ type: 'move', position: pointIn(player, 0.5, 0.2) });
    await player.updateComplete;
    equal(maybePart(player, 'preview'), null, 'preview gone when the pointer leaves');
  });

  it('takes the storyboard from the storyboard_url of the /stream answer', async () => {
    const player = await mountReady(FIXTURE_HLS_URL, {}, '', { storyboard_url: STORYBOARD_URL });
    const seek = part(player, 'seek-bar');
    await waitFor(() => performance.getEntriesByName(STORYBOARD_URL).length, 'storyboard fetched');
    await sendMouse({ type: 'move', position: pointIn(seek, 0.9) });
    await player.updateComplete;
    const image = await waitFor(() => maybePart(player, 'preview-image'), 'thumbnail on hover');
    equal(getComputedStyle(image).backgroundPosition, '-480px 0px', 'region of the 7 s thumbnail');
  });

  it("takes the poster from the /stream answer's poster_url, and a poster attribute wins over it", async () => {
    const fromServer = await mountReady(FIXTURE_HLS_URL, {}, '', { poster_url: SPRITE_URL });
    equal(fromServer.media.getAttribute('poster'), SPRITE_URL, 'poster_url used');
    const own = `${SPRITE_URL}?own`;
    const chosen = await mountReady(FIXTURE_HLS_URL, { poster: own }, '', { poster_url: SPRITE_URL });
    equal(chosen.media.getAttribute('poster'), own, 'the attribute wins');
  });

  it('passes an axe audit with the bar shown and with a menu open', async () => {
    const player = await mountReady(QUALITY_HLS_URL, {}, CAPTIONS);
    await waitFor(() => player.captionTracks.length === 2 && player.qualityLevels.length === 2, 'menus');
    await player.updateComplete;
    await expectNoAxeViolations(player);
    await openMenu(player, 'captions-button');
    await expectNoAxeViolations(player);
    const button = part(player, 'captions-button');
    equal(button.getAttribute('aria-haspopup'), 'menu', 'menu button');
    equal(
      player.shadowRoot!.getElementById(button.getAttribute('aria-controls')!)?.getAttribute('role'),
      'menu',
      'controls',
    );
  });

  it('offers picture-in-picture where the engine has the API, and leaves the button out where it has not', async () => {
    const engine = currentEngine();
    const player = await mountReady();
    // Chromium and Firefox have the Picture-in-Picture API; WebKitGTK does not (Apple's WebKit has it): there the
    // bar has no PiP button and keeps the rest.
    const hasApi = engine === 'chromium' || engine === 'firefox';
    equal(!!document.pictureInPictureEnabled, hasApi, `${engine}: document.pictureInPictureEnabled`);
    equal(!!maybePart(player, 'pip-button'), hasApi, `${engine}: PiP button`);
    if (hasApi) equal(part(player, 'pip-button').getAttribute('aria-label'), 'Picture-in-picture', 'label');
    assert(maybePart(player, 'fullscreen-button'), `${engine}: fullscreen button`);
    assert(maybePart(player, 'play-button'), `${engine}: play button`);
  });

  it('enters and leaves fullscreen with f and the fullscreen button', async () => {
    const player = await mountReady();
    part(player, 'play-button').focus();
    await sendKeys({ press: 'f' });
    await waitFor(() => document.fullscreenElement === player, 'fullscreen after f');
    // The bar renders again on `fullscreenchange`, which may come a frame after `fullscreenElement` is set.
    const button = part(player, 'fullscreen-button');
    await waitFor(() => button.getAttribute('aria-label') === 'Exit fullscreen', 'label in fullscreen');
    // The click goes to the button's place on the screen: WebKitGTK grows the window to the screen after setting
    // `fullscreenElement`, so wait until the player fills the window.
    await waitFor(() => {
      const { width, height } = player.getBoundingClientRect();
      return Math.abs(width - innerWidth) < 1 && Math.abs(height - innerHeight) < 1;
    }, 'the player filling the window');
    await click(button);
    await waitFor(() => !document.fullscreenElement, 'fullscreen left after the button');
  });

  it('shows the browser controls with controls="native" and no controls with "none", "false" or false', async () => {
    const players = ['native', 'none', 'false'].map((controls) => createPlayer({ controls }));
    const byProperty = createPlayer({});
    byProperty.controls = false;
    const byDefault = createPlayer({});
    for (const player of [...players, byProperty, byDefault]) await player.updateComplete;
    const [native, none, off] = players as [
      NotetakerPlayerElement,
      NotetakerPlayerElement,
      NotetakerPlayerElement,
    ];
    equal(native.controls, 'native', 'native property');
    assert(native.media.controls && !maybePart(native, 'controls'), 'native: the browser controls only');
    for (const player of [none, off, byProperty]) {
      equal(player.controls, false, 'property');
      assert(!player.media.controls && !maybePart(player, 'controls'), 'no controls');
    }
    equal(byDefault.controls, true, 'default property');
    assert(!byDefault.media.controls && maybePart(byDefault, 'controls'), 'default: the control bar');
    byProperty.controls = true;
    await byProperty.updateComplete;
    assert(maybePart(byProperty, 'controls'), 'bar after setting the property to true');
  });
});

describe('control bar helpers', () => {
  it('reads storyboard cues and resolves their sprite against the VTT address', () => {
    const cues = parseStoryboard(
      'WEBVTT\r\n\r\n00:00:00.000 --> 00:00:02.500\r\nsprite-1.jpg#xywh=0,0,160,90\r\n\r\n' +
        '00:02.500 --> 00:05.000 align:start\r\nhttps://cdn.example/s/b.jpg?sig=x#xywh=160,90,160,90\r\n',
      'https://video.example/v/1/storyboard.vtt?token=t',
    );
    equal(
      JSON.stringify(cues),
      JSON.stringify([
        {
          start: 0,
          end: 2.5,
          url: 'https://video.example/v/1/sprite-1.jpg',
          x: 0,
          y: 0,
          width: 160,
          height: 90,
        },
        {
          start: 2.5,
          end: 5,
          url: 'https://cdn.example/s/b.jpg?sig=x',
          x: 160,
          y: 90,
          width: 160,
          height: 90,
        },
      ]),
      'cues',
    );
    equal(findStoryboardCue(cues, 3)?.x, 160, 'cue at 3 s');
    equal(findStoryboardCue(cues, 9)?.x, 160, 'last cue past the end');
  });

  it('formats times for the display and for screen readers', () => {
    equal(
      `${formatTime(0)} ${formatTime(75.9)} ${formatTime(3723)} ${formatTime(NaN)}`,
      '0:00 1:15 1:02:03 0:00',
      'clock',
    );
    equal(spokenTime(3661), '1 hour 1 minute 1 second', 'words');
    equal(spokenTime(0.4), '0 seconds', 'zero');
  });
});
