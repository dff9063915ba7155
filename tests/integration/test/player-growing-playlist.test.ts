// Playing a video while the real stream server is still generating it: the server hands out an EVENT playlist
// that grows and later gains EXT-X-ENDLIST under the same URL. Its ffmpeg reads the source at real time.
import '@notetaker/player-element/define';
import { createStreamClient } from '@notetaker/client-sdk';
import {
  PlayerEventName,
  type NotetakerErrorDetail,
  type NotetakerStatusDetail,
} from '@notetaker/player-element';
import { assert, equal, nextEvent, trackHls, waitFor } from '@notetaker/test-support/browser';
import { loadGrowingFixtures, trackRequests, type GrowingFixtures } from './support/stream-server.js';

let fixtures: GrowingFixtures;

before(async function () {
  this.timeout(300_000);
  fixtures = await loadGrowingFixtures();
});

afterEach(() => {
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

/** Seconds listed in a media playlist, and whether it is complete. */
async function readPlaylist(url: string): Promise<{ seconds: number; ended: boolean }> {
  const text = await (await fetch(url)).text();
  const seconds = [...text.matchAll(/#EXTINF:([\d.]+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
  return { seconds, ended: text.includes('#EXT-X-ENDLIST') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('<notetaker-player> on a playlist still being generated', () => {
  it('starts at 0, shows the growing duration, waits for a seek past the end, and ends at the full length', async function () {
    this.timeout(120_000);
    const { apiBase, token, videoId, seconds } = fixtures;

    // Start the generation and let the playlist grow past 10 s first: a player starting at the live edge (hls.js's
    // choice for a playlist without EXT-X-ENDLIST) would then start at 4 s or later, not at 0.
    const client = createStreamClient({ baseUrl: apiBase, token });
    const first = await client.waitForStream(videoId, { untilPlayable: true, timeout: 60_000 });
    equal(first.status, 'generating', 'first answer');
    assert(first.hls_url, 'a playable URL while generating');
    let listed = await readPlaylist(first.hls_url);
    while (listed.seconds < 10) {
      assert(!listed.ended, `the playlist grows (${listed.seconds} s listed)`);
      await sleep(200);
      listed = await readPlaylist(first.hls_url);
    }
    assert(!listed.ended, 'still growing when the player starts');

    const hls = await trackHls();
    const requests = trackRequests();
    try {
      const statuses: NotetakerStatusDetail[] = [];
      const errors: NotetakerErrorDetail[] = [];
      let emptied = 0;
      // Where playback started: the earliest position seen playing. The live edge lies 4 s or more in (three target
      // durations before the 10 s listed); 'playing' may be dispatched a moment after playback began (WebKit).
      let startedAt = Infinity;
      const player = document.createElement('notetaker-player');
      player.addEventListener(PlayerEventName.status, (event) => statuses.push(event.detail));
      player.addEventListener(PlayerEventName.error, (event) => errors.push(event.detail));
      // Counted once playing: with ManagedMediaSource, hls.js attaches through a <source> element, and WebKit fires
      // one emptied for that at the start.
      player.addEventListener('emptied', () => {
        if (startedAt !== Infinity) emptied++;
      });
      player.setAttribute('api-base', apiBase);
      player.setAttribute('token', token);
      player.setAttribute('video-id', videoId);
      player.setAttribute('autoplay', 'muted');
      document.body.append(player);

      const seen = () => {
        if (!player.media.paused) startedAt = Math.min(startedAt, player.media.currentTime);
      };
      player.media.addEventListener('timeupdate', seen);
      await nextEvent(player, 'playing', 30_000);
      seen();
      player.media.removeEventListener('timeupdate', seen);
      assert(startedAt < 3, `starts at 0, not at the live edge (${startedAt})`);
      equal(JSON.stringify(statuses), JSON.stringify([{ status: 'ready', generating: true }]), 'statuses');
      await waitFor(() => player.currentTime > startedAt + 1, 'currentTime advances');

      // While growing: the duration is what exists so far, and the bar says so.
      await waitFor(() => player.growing, 'growing reported');
      await player.updateComplete;
      const shadow = player.shadowRoot!;
      const available = player.media.seekable.end(0);
      assert(available >= 10 && available < seconds - 2, `available ${available} s of ${seconds}`);
      assert(player.duration < seconds - 2, `duration is the generated part (${player.duration})`);
      const time = shadow.querySelector('[part~=time-display]')!.textContent!;
      assert(time.trim().endsWith('…'), `time display marks the duration as growing (${time})`);
      const seekBar = shadow.querySelector('[part~=seek-bar]')!;
      assert(seekBar.getAttribute('aria-valuetext')!.endsWith('so far'), 'seek bar valuetext says "so far"');
      assert(seekBar.hasAttribute('data-growing'), 'seek bar marked as growing');

      // A seek past what exists waits, then lands once the playlist reaches it.
      const endAtSeek = player.media.seekable.end(0);
      const target = Math.min(endAtSeek + 6, seconds - 3);
      assert(target > endAtSeek + 1, `target ${target} s lies past the listed end ${endAtSeek} s`);
      player.currentTime = target;
      equal(player.currentTime, target, 'the queued seek is reported');
      assert(player.media.currentTime < target - 1, `not there yet (${player.media.currentTime})`);
      let lowest = Infinity;
      const watch = () => {
        if (player.media.currentTime > 1) lowest = Math.min(lowest, player.media.currentTime);
      };
      player.media.addEventListener('timeupdate', watch);
      // Landed: the element no longer reports the queued target but the media's own position, which is there. (The
      // media's position alone does not tell: the playhead waiting at the listed end may creep close to the target.)
      await waitFor(
        () =>
          Math.abs(player.currentTime - player.media.currentTime) < 0.01 &&
          player.media.currentTime >= target - 0.25,
        `landed at ${target} s`,
        60_000,
      );
      const endAtLanding = player.media.seekable.end(0);
      assert(endAtLanding >= target, `landed once the playlist reached it (end ${endAtLanding})`);
      assert(
        lowest >= endAtSeek - 1.5,
        `the playhead waited near the end, never jumped back (lowest ${lowest})`,
      );
      player.media.removeEventListener('timeupdate', watch);
      await waitFor(() => player.media.readyState >= 3 && !player.paused, 'playing after landing', 30_000);

      // The same URL gains EXT-X-ENDLIST: the player follows it to the end with the full duration.
      // At normal speed: in WebKitGTK a playbackRate change during MSE playback is a flushing GStreamer seek that
      // sometimes left the element paused for good (2 of 4 runs), which is not what this test is about.
      await nextEvent(player, 'ended', 60_000);
      assert(Math.abs(player.duration - seconds) < 0.5, `full duration (${player.duration})`);
      equal(player.growing, false, 'no longer growing');
      equal(
        JSON.stringify(statuses),
        JSON.stringify([
          { status: 'ready', generating: true },
          { status: 'ready', generating: false },
        ]),
        'statuses at the end',
      );
      await player.updateComplete;
      const finalTime = shadow.querySelector('[part~=time-display]')!.textContent!;
      assert(!finalTime.includes('…'), `complete duration shown (${finalTime})`);
      equal(errors.length, 0, 'errors');
      equal(hls.created(), 1, 'one hls.js instance for the whole session');
      equal(emptied, 0, 'the media was never reloaded');
      equal(requests.urls.filter((url) => url.endsWith(`/${videoId}/stream`)).length, 1, '/stream requests');
    } finally {
      requests.restore();
      hls.restore();
    }
  });
});
