// Chapters and note markers of <notetaker-player> in Chromium: rendering, keyboard, seeking and events, on the HLS
// fixture made by ffmpeg (8 s) and scripted /stream answers.
import '../src/define.js';
import { resetMouse, sendKeys, sendMouse } from '@web/test-runner-commands';
import { chapterIndexAt } from '../src/chapters/chapter-index.js';
import { parseChapters } from '../src/chapters/chapters-vtt.js';
import type { NotetakerPlayerElement, PlayerMarker } from '../src/notetaker-player.js';
import {
  assert,
  createPlayer,
  equal as equalWith,
  expectNoAxeViolations,
  FIXTURE_HLS_URL,
  generating,
  ready,
  scriptApi,
  waitFor,
  type ApiAnswer,
  type ScriptedApi,
} from './support/browser.js';

const VIDEO = '0f6b8a52-3c1d-4e7f-9a2b-6c5d4e3f2a10';
const CHAPTERS_VTT =
  'WEBVTT\n\n1\n00:00:00.000 --> 00:00:03.000\nIntro\n\n2\n00:00:03.000 --> 00:00:06.000\nBudget &amp; plans\n\n' +
  '3\n00:00:06.000 --> 00:00:08.000\nQuestions\n';
const CHAPTERS_URL = `data:text/vtt,${encodeURIComponent(CHAPTERS_VTT)}`;
const NOTES: PlayerMarker[] = [
  { time: 2, label: 'Kick-off', id: 'n1' },
  { time: 5.5, label: 'Decision on the budget', id: 'n2' },
];

let api: ScriptedApi | undefined;

afterEach(async () => {
  api?.restore();
  api = undefined;
  await resetMouse();
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

/** Mounts a player whose /stream answers with `answer()` and waits until it is ready. */
async function mount(answer: () => ApiAnswer = () => readyWithChapters()): Promise<NotetakerPlayerElement> {
  api = scriptApi(answer);
  const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, muted: '' });
  await waitFor(() => player.state === 'ready', 'ready', 15_000);
  await player.updateComplete;
  return player;
}

function readyWithChapters(): ApiAnswer {
  const base = ready(FIXTURE_HLS_URL);
  return { ...base, body: { ...(base.body as object), chapters_url: CHAPTERS_URL } };
}

const parts = (player: NotetakerPlayerElement, name: string) => [
  ...player.shadowRoot!.querySelectorAll<HTMLElement>(`[part~='${name}']`),
];

function part(player: NotetakerPlayerElement, name: string): HTMLElement {
  const element = parts(player, name)[0];
  assert(element, `part ${name} rendered`);
  return element;
}

function pointIn(element: Element, fx = 0.5, fy = 0.5): [number, number] {
  const box = element.getBoundingClientRect();
  return [Math.round(box.left + box.width * fx), Math.round(box.top + box.height * fy)];
}

/** Collects the `type` events the player fires. */
function record<T>(player: NotetakerPlayerElement, type: string): T[] {
  const seen: T[] = [];
  player.addEventListener(type, (event) => seen.push((event as CustomEvent<T>).detail));
  return seen;
}

/** `equal` with an optional message. */
const equal = (actual: unknown, expected: unknown, message = 'equal') => equalWith(actual, expected, message);

const near = (a: number, b: number, tolerance = 0.3) => Math.abs(a - b) <= tolerance;

describe('chapters track', () => {
  it('reads chapters from WebVTT and finds the one playing', () => {
    const chapters = parseChapters(CHAPTERS_VTT.replace(/\n/g, '\r\n'));
    equal(chapters.length, 3);
    equal(chapters[1]!.title, 'Budget & plans');
    equal(chapters[2]!.start, 6);
    equal(chapterIndexAt(chapters, 0), 0);
    equal(chapterIndexAt(chapters, 5.99), 1);
    equal(chapterIndexAt(chapters, 100), 2);
    equal(chapterIndexAt([], 1), -1);
  });
});

describe('chapters in the player', () => {
  it('loads chapters_url: read-only chapters, boundaries on the seek bar, no accessibility violations', async () => {
    const player = await mount();
    await waitFor(() => player.chapters.length === 3, 'chapters loaded');
    await player.updateComplete;
    equal(player.chapters.map((c) => c.title).join('|'), 'Intro|Budget & plans|Questions');
    const markers = parts(player, 'chapter-marker');
    equal(markers.length, 2, 'a boundary per chapter after the first');
    const track = part(player, 'seek-bar').querySelector('.track')!.getBoundingClientRect();
    const first = markers[0]!.getBoundingClientRect();
    assert(
      near((first.left + first.width / 2 - track.left) / track.width, 3 / 8, 0.03),
      'boundary at 3 s of 8',
    );
    assert(
      !('chapters' in Object.getOwnPropertyDescriptors(player)),
      'chapters is not an own writable field',
    );
    const descriptor = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(player), 'chapters');
    assert(descriptor?.get && !descriptor.set, 'chapters is a getter only');
    await expectNoAxeViolations(player);
  });

  it('shows the chapter title in the seek preview', async () => {
    const player = await mount();
    await waitFor(() => player.chapters.length === 3, 'chapters loaded');
    await player.updateComplete;
    await sendMouse({ type: 'move', position: pointIn(part(player, 'seek-bar'), 0.9) });
    await player.updateComplete;
    equal(part(player, 'preview-chapter').textContent, 'Questions');
    await sendMouse({ type: 'move', position: pointIn(part(player, 'seek-bar'), 0.5) });
    await player.updateComplete;
    equal(part(player, 'preview-chapter').textContent, 'Budget & plans');
  });

  it('seeks from the chapters menu with the keyboard and fires notetaker-chapterchange on entering a chapter', async () => {
    const player = await mount();
    await waitFor(() => player.chapters.length === 3, 'chapters loaded');
    const changes = record<{ index: number; title: string; start: number }>(
      player,
      'notetaker-chapterchange',
    );
    await player.updateComplete;
    const button = part(player, 'chapters-button');
    button.focus();
    await sendKeys({ press: 'Enter' });
    await player.updateComplete;
    await waitFor(
      () => player.shadowRoot!.activeElement?.getAttribute('role') === 'menuitemradio',
      'menu focused',
    );
    await sendKeys({ press: 'ArrowDown' });
    await sendKeys({ press: 'ArrowDown' });
    equal(player.shadowRoot!.activeElement?.textContent?.trim(), '0:06 Questions');
    await sendKeys({ press: 'Enter' });
    await waitFor(() => near(player.media.currentTime, 6), 'seeked to the third chapter');
    await waitFor(() => changes.some((change) => change.index === 2), 'chapterchange for the third chapter');
    const change = changes.find((c) => c.index === 2)!;
    equal(change.title, 'Questions');
    equal(change.start, 6);
    equal(player.currentChapter, 2);
    await player.updateComplete;
    assert(
      part(player, 'seek-bar').getAttribute('aria-valuetext')!.endsWith(', Questions'),
      'the seek bar names the chapter',
    );
    player.currentTime = 1;
    await waitFor(() => changes.at(-1)?.index === 0, 'back in the first chapter');
  });

  it('has no chapters, menu or boundaries when the answer has no chapters_url', async () => {
    const player = await mount(() => ready(FIXTURE_HLS_URL));
    equal(player.chapters.length, 0);
    equal(parts(player, 'chapter-marker').length, 0);
    equal(parts(player, 'chapters-button').length, 0);
  });
});

describe('note markers', () => {
  it('renders a tick per marker with its label on hover and focus', async () => {
    const player = await mount(() => ready(FIXTURE_HLS_URL));
    player.markers = NOTES;
    await player.updateComplete;
    const ticks = parts(player, 'marker');
    equal(ticks.length, 2);
    equal(ticks[1]!.getAttribute('aria-label'), '0:05 Decision on the budget');
    const label = (tick: HTMLElement) => tick.querySelector<HTMLElement>('[part~=marker-label]')!;
    equal(getComputedStyle(label(ticks[0]!)).display, 'none', 'label hidden at rest');
    await sendMouse({ type: 'move', position: pointIn(ticks[0]!) });
    assert(getComputedStyle(label(ticks[0]!)).display !== 'none', 'label shown on hover');
    equal(label(ticks[0]!).textContent!.trim(), '0:02 Kick-off');
    await resetMouse();
    const track = part(player, 'seek-bar').querySelector('.track')!.getBoundingClientRect();
    const box = ticks[1]!.getBoundingClientRect();
    assert(near((box.left + box.width / 2 - track.left) / track.width, 5.5 / 8, 0.03), 'tick at 5.5 s of 8');
    assert(box.top < track.bottom && box.bottom > track.top, 'the tick sits on the seek track');
    await expectNoAxeViolations(player);
    player.markers = [];
    await player.updateComplete;
    equal(parts(player, 'marker').length, 0);
  });

  it('a click seeks to the marker and fires notetaker-markerclick with it', async () => {
    const player = await mount(() => ready(FIXTURE_HLS_URL));
    player.markers = NOTES;
    const clicks = record<{ marker: PlayerMarker }>(player, 'notetaker-markerclick');
    await player.updateComplete;
    await sendMouse({ type: 'click', position: pointIn(parts(player, 'marker')[1]!) });
    await waitFor(() => near(player.media.currentTime, 5.5), 'seeked to the marker');
    equal(clicks.length, 1);
    equal(clicks[0]!.marker, NOTES[1]);
  });

  it('is reachable with Tab and activated with Enter', async () => {
    const player = await mount(() => ready(FIXTURE_HLS_URL));
    player.markers = NOTES;
    const clicks = record<{ marker: PlayerMarker }>(player, 'notetaker-markerclick');
    await player.updateComplete;
    part(player, 'seek-bar').focus();
    await sendKeys({ press: 'Tab' });
    equal(
      player.shadowRoot!.activeElement,
      parts(player, 'marker')[0],
      'Tab goes from the seek bar to the first marker',
    );
    const label = parts(player, 'marker')[0]!.querySelector<HTMLElement>('[part~=marker-label]')!;
    assert(getComputedStyle(label).display !== 'none', 'label shown on keyboard focus');
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Enter' });
    await waitFor(() => near(player.media.currentTime, 5.5), 'seeked to the second marker');
    equal(clicks[0]?.marker.id, 'n2');
  });
});

describe('seeking from a note', () => {
  it('queues a seek set before the video is playable and applies it when ready', async () => {
    let answers = 0;
    api = scriptApi(() => (++answers < 3 ? generating() : ready(FIXTURE_HLS_URL)));
    const player = createPlayer({ 'video-id': VIDEO, 'api-base': api.base, muted: '' });
    player.markers = NOTES;
    await waitFor(() => player.state === 'preparing', 'preparing');
    player.currentTime = 5.5;
    equal(player.currentTime, 5.5, 'the queued seek is reported');
    await waitFor(() => player.state === 'ready', 'ready', 15_000);
    await waitFor(() => near(player.media.currentTime, 5.5), 'the queued seek landed');
  });

  it('seeks while the video is still generating (a playable EVENT answer)', async () => {
    const player = await mount(() => generating({ playable: true, hls_url: FIXTURE_HLS_URL }));
    player.markers = NOTES;
    await player.updateComplete;
    player.selectMarker(NOTES[0]!);
    await waitFor(() => near(player.media.currentTime, 2), 'seeked to the marker while generating');
  });
});
