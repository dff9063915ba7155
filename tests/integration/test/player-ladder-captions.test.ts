// <notetaker-player> on what a real stream server adds after ready: a lower rendition (the master playlist that
// /stream hands out once it exists) and a caption track added through the management API.
import '@notetaker/player-element/define';
import type { NotetakerPlayerElement } from '@notetaker/player-element';
import { assert, equal, trackHls, waitFor } from '@notetaker/test-support/browser';
import { loadLadderFixtures, type LadderFixtures } from './support/stream-server.js';

let fixtures: LadderFixtures;

before(async function () {
  // Starts a server, generates the video, then waits for its rung: the first run also makes the source with ffmpeg.
  this.timeout(300_000);
  fixtures = await loadLadderFixtures();
});

afterEach(() => {
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

function part(player: NotetakerPlayerElement, name: string): HTMLElement {
  const element = player.shadowRoot!.querySelector<HTMLElement>(`[part~='${name}']`);
  assert(element, `part ${name} rendered`);
  return element;
}

const menuItems = (player: NotetakerPlayerElement) => [
  ...player.shadowRoot!.querySelectorAll<HTMLElement>('[role=menu] [role=menuitemradio]'),
];
const labels = (items: HTMLElement[]) => items.map((item) => item.textContent!.trim()).join(',');

async function openMenu(player: NotetakerPlayerElement, button: string): Promise<HTMLElement[]> {
  await player.updateComplete;
  part(player, button).click();
  await player.updateComplete;
  equal(part(player, button).getAttribute('aria-expanded'), 'true', `${button} expanded`);
  return menuItems(player);
}

async function choose(player: NotetakerPlayerElement, button: string, label: string): Promise<void> {
  const items = await openMenu(player, button);
  const item = items.find((candidate) => candidate.textContent!.trim() === label);
  assert(item, `${label} in the ${button} menu (${labels(items)})`);
  item.click();
  await player.updateComplete;
}

describe('<notetaker-player> with a bitrate ladder and captions from a real stream server', () => {
  it('offers Auto and each rendition, switches hls.js to the one chosen, and shows the caption track chosen', async function () {
    this.timeout(60_000);
    const hls = await trackHls();
    try {
      const player = document.createElement('notetaker-player');
      player.setAttribute('api-base', fixtures.apiBase);
      player.setAttribute('token', fixtures.token);
      player.setAttribute('video-id', fixtures.videoId);
      player.setAttribute('autoplay', 'muted');
      player.setAttribute('loop', '');
      document.body.append(player);
      await waitFor(
        () => player.state === 'ready' && player.qualityLevels.length === 2,
        'two renditions',
        30_000,
      );
      const instance = [...hls.live][0] as {
        url: string;
        currentLevel: number;
        subtitleTrack: number;
        subtitleDisplay: boolean;
      };
      assert(instance.url.includes('/master.m3u8'), `hls.js loaded the master playlist (${instance.url})`);

      // Quality: Auto, then each rung by height, highest first.
      const items = await openMenu(player, 'quality-button');
      const expected = ['Auto', ...fixtures.heights.map((height) => `${height}p`)].join(',');
      equal(labels(items), expected, 'quality menu');
      part(player, 'quality-button').click(); // closes it
      await player.updateComplete;
      const heights = player.qualityLevels.map((level) => level.height);
      for (const height of [...fixtures.heights].reverse()) {
        await choose(player, 'quality-button', `${height}p`);
        const index = heights.indexOf(height);
        equal(player.qualityLevel, index, `qualityLevel for ${height}p`);
        await waitFor(() => instance.currentLevel === index, `hls.js on level ${index} (${height}p)`, 20_000);
        await waitFor(() => player.media.videoHeight === height, `${height}p frames playing`, 20_000);
        await player.updateComplete;
        equal(
          part(player, 'quality-button').getAttribute('aria-label'),
          `Quality: ${height}p`,
          'quality button',
        );
      }

      // Captions: the server's track is listed, off until chosen; choosing it shows its cue.
      const captions = await openMenu(player, 'captions-button');
      equal(labels(captions), `Off,${fixtures.caption.label}`, 'captions menu');
      equal(captions[0]!.getAttribute('aria-checked'), 'true', 'captions off at first');
      part(player, 'captions-button').click(); // closes it
      await choose(player, 'captions-button', fixtures.caption.label);
      equal(player.captionTrack, 0, 'captionTrack');
      equal(instance.subtitleDisplay, true, 'hls.js displays subtitles');
      equal(instance.subtitleTrack, 0, 'hls.js subtitle track');
      const showing = await waitFor(
        () =>
          [...player.media.textTracks].find(
            (track) => track.mode === 'showing' && track.language === fixtures.caption.language,
          ),
        () =>
          `a showing text track in the caption language (${[...player.media.textTracks]
            .map((track) => `${track.kind}/${track.language}/${track.label}/${track.mode}`)
            .join(', ')})`,
      );
      if (player.currentTime > 5) player.currentTime = 1; // the cue ends at 5.9 s
      await waitFor(
        () => [...(showing.activeCues ?? [])].some((cue) => (cue as VTTCue).text === fixtures.caption.text),
        'the caption cue showing',
        20_000,
      );
      assert(!player.paused, 'still playing');
    } finally {
      hls.restore();
    }
  });
});
