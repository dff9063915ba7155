// <notetaker-player> against a real stream server (embedded defaults) serving HLS made by ffmpeg.
import '@notetaker/player-element/define';
import {
  PlayerEventName,
  type NotetakerErrorDetail,
  type NotetakerPlayerElement,
  type NotetakerStatusDetail,
} from '@notetaker/player-element';
import {
  assert,
  currentEngine,
  equal,
  expectNoAxeViolations,
  nextEvent,
  trackHls,
  waitFor,
} from '@notetaker/test-support/browser';
import {
  loadServerFixtures,
  replaceVideoSource,
  trackRequests,
  type RequestLog,
  type ServerFixtures,
} from './support/stream-server.js';

let fixtures: ServerFixtures;
let requests: RequestLog | undefined;

before(async function () {
  this.timeout(300_000);
  fixtures = await loadServerFixtures();
});

afterEach(() => {
  requests?.restore();
  requests = undefined;
  for (const player of document.querySelectorAll('notetaker-player')) player.remove();
});

function mount(id: string, attributes: Record<string, string> = {}): NotetakerPlayerElement {
  const player = document.createElement('notetaker-player');
  player.setAttribute('api-base', fixtures.apiBase);
  player.setAttribute('token', fixtures.token);
  player.setAttribute('video-id', id);
  for (const [name, value] of Object.entries(attributes)) player.setAttribute(name, value);
  document.body.append(player);
  return player;
}

const streamRequests = (log: RequestLog, id: string) =>
  log.urls.filter((url) => url.endsWith(`/${id}/stream`));
const playlistRequests = (log: RequestLog) => log.urls.filter((url) => url.includes('/playlist.m3u8'));

describe('<notetaker-player> with a real stream server', () => {
  it('plays a ready video past 2 seconds', async () => {
    const player = mount(fixtures.videos.ready, { autoplay: 'muted' });
    await waitFor(() => player.currentTime > 2, 'currentTime > 2');
    equal(player.state, 'ready', 'state');
    assert(Math.abs(player.duration - 10) < 0.5, `duration ≈ 10 s (${player.duration})`);
    assert(!player.paused, 'playing');
    player.volume = 0.25;
    equal(player.media.volume, 0.25, 'volume reaches the video');
    const paused = nextEvent(player, 'pause');
    player.pause();
    await paused;
    equal(player.paused, true, 'paused after pause()');
  });

  it('queues play() called before the video is ready', async () => {
    const player = mount(fixtures.videos.ready, { muted: '' });
    await player.play();
    await nextEvent(player, 'playing');
    await waitFor(() => player.currentTime > 0.5, 'playing');
  });

  it('resumes where it was when the same element is connected again', async () => {
    const player = mount(fixtures.videos.ready, { autoplay: 'muted' });
    await waitFor(() => player.currentTime > 3, 'past 3 s');
    player.remove();
    const at = player.currentTime;
    assert(at > 3, `position kept while disconnected (${at})`);
    document.body.append(player);
    await nextEvent(player, 'playing');
    await waitFor(() => player.media.readyState >= 3 && !player.media.seeking, 'resumed');
    assert(player.media.currentTime >= at - 0.5, `resumed at ${player.media.currentTime}, left at ${at}`);
  });

  it('starts at start-time once the video is seekable', async () => {
    const player = mount(fixtures.videos.ready, { 'start-time': '6' });
    equal(player.currentTime, 6, 'queued start reported before the video is seekable');
    await nextEvent(player, 'canplay');
    await waitFor(() => player.media.readyState >= 2 && !player.media.seeking, 'seek applied');
    assert(
      player.media.currentTime >= 5.9 && player.media.currentTime < 7,
      `at 6 s (${player.media.currentTime})`,
    );
  });

  it('applies seeks made before the video is seekable', async () => {
    const player = document.createElement('notetaker-player');
    player.currentTime = 3; // before any attribute: replaced by the later seek
    player.setAttribute('api-base', fixtures.apiBase);
    player.setAttribute('token', fixtures.token);
    player.setAttribute('video-id', fixtures.videos.ready);
    document.body.append(player);
    await waitFor(() => player.state === 'loading', 'loading');
    player.currentTime = 7.5; // while /stream is being asked
    equal(player.currentTime, 7.5, 'queued seek reported');
    await nextEvent(player, 'canplay');
    await waitFor(() => player.media.readyState >= 2 && !player.media.seeking, 'seek applied');
    assert(Math.abs(player.media.currentTime - 7.5) < 0.6, `at 7.5 s (${player.media.currentTime})`);
  });

  it('asks /stream and loads the playlist once whatever the attribute order', async () => {
    const log = (requests = trackRequests());
    const attributes: [string, string][] = [
      ['video-id', fixtures.videos.ready],
      ['api-base', fixtures.apiBase],
      ['token', fixtures.token],
      ['start-time', '1'],
    ];
    const orders = [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
      [3, 0, 2, 1],
      [1, 2, 3, 0],
    ];
    for (const [index, order] of orders.entries()) {
      const before = {
        stream: streamRequests(log, fixtures.videos.ready).length,
        playlists: playlistRequests(log).length,
      };
      const player = document.createElement('notetaker-player');
      const connectFirst = index % 2 === 0;
      if (connectFirst) document.body.append(player);
      for (const i of order) player.setAttribute(...attributes[i]!);
      if (!connectFirst) document.body.append(player);
      await nextEvent(player, 'loadedmetadata');
      player.remove();
      equal(
        streamRequests(log, fixtures.videos.ready).length - before.stream,
        1,
        `/stream requests, order ${order}`,
      );
      equal(playlistRequests(log).length - before.playlists, 1, `playlist requests, order ${order}`);
    }
  });

  it('plays a never-viewed video, showing an accessible preparing state while the server is not ready', async function () {
    this.timeout(120_000);
    const statuses: NotetakerStatusDetail[] = [];
    const states: string[] = [];
    let audit: Promise<void> | undefined;
    const player = document.createElement('notetaker-player');
    player.addEventListener(PlayerEventName.status, (event) => {
      statuses.push(event.detail);
      if (event.detail.status === 'preparing') {
        audit ??= player.updateComplete.then(() => {
          states.push(player.state);
          return expectNoAxeViolations(player);
        });
      }
    });
    player.setAttribute('api-base', fixtures.apiBase);
    player.setAttribute('token', fixtures.token);
    player.setAttribute('video-id', fixtures.videos.fresh);
    player.setAttribute('autoplay', 'muted');
    document.body.append(player);
    await nextEvent(player, 'playing', 90_000);
    await audit;
    const sequence = statuses.map((status) => status.status);
    const firstReady = sequence.indexOf('ready');
    assert(firstReady >= 0, `a ready status (${sequence.join(', ')})`);
    assert(
      sequence.slice(0, firstReady).every((status) => status === 'preparing'),
      `order (${sequence.join(', ')})`,
    );
    equal(states.join(), firstReady > 0 ? 'preparing' : '', 'state shown while preparing');
    await waitFor(() => player.currentTime > 1, 'playing past 1 s');
  });

  it('shows an error for a corrupt video and plays it after Retry once the source is fixed', async function () {
    this.timeout(120_000);
    const player = mount(fixtures.videos.corrupt, { autoplay: 'muted' });
    const error = await nextEvent<CustomEvent<NotetakerErrorDetail>>(player, PlayerEventName.error, 90_000);
    equal(error.detail.code, 'generation_failed', 'error code');
    await player.updateComplete;
    equal(player.state, 'error', 'state');
    await expectNoAxeViolations(player);
    await replaceVideoSource(fixtures.videos.corrupt);
    player.shadowRoot!.querySelector<HTMLButtonElement>('[part=retry-button]')!.click();
    await nextEvent(player, 'playing', 90_000);
    equal(player.error, null, 'error cleared');
  });

  it('recovers from expired segment URLs at the same position', async function () {
    this.timeout(90_000);
    const log = (requests = trackRequests());
    const errors: NotetakerErrorDetail[] = [];
    const player = document.createElement('notetaker-player');
    player.addEventListener(PlayerEventName.error, (event) => errors.push(event.detail));
    // A small forward buffer makes hls.js fetch later segments after their signatures expired.
    player.hlsConfig = { maxBufferLength: 3, maxMaxBufferLength: 3, startFragPrefetch: false };
    player.setAttribute('api-base', fixtures.apiBase);
    player.setAttribute('token', fixtures.token);
    player.setAttribute('video-id', fixtures.videos.long);
    player.setAttribute('autoplay', 'muted');
    document.body.append(player);
    let reached = 0;
    let lowestAfterReload = Infinity;
    let maxBeforeReload = 0;
    player.media.addEventListener('timeupdate', () => {
      const { media } = player;
      if (media.readyState < 3 || media.seeking) return;
      const reloads = streamRequests(log, fixtures.videos.long).length - 1;
      if (reloads === 0) maxBeforeReload = Math.max(maxBeforeReload, media.currentTime);
      else lowestAfterReload = Math.min(lowestAfterReload, media.currentTime);
      reached = Math.max(reached, media.currentTime);
    });
    // At 1×: in WebKitGTK a playback rate change resets the muting of its GStreamer pipeline, which the video then
    // reports as its own (muted becomes false), and its autoplay policy pauses the video that became audible without
    // a user gesture: a muted autoplay sped up by a script stops at 0 s.
    await nextEvent(player, 'playing');
    await waitFor(() => reached > 14, 'playback past 14 s', 60_000);
    const reloads = streamRequests(log, fixtures.videos.long).length - 1;
    assert(reloads >= 1, 'asked /stream again for fresh URLs');
    equal(errors.length, 0, 'errors');
    assert(maxBeforeReload > 2, `played before the URLs expired (${maxBeforeReload})`);
    assert(
      lowestAfterReload >= maxBeforeReload - 1.5,
      `resumed where it was (${lowestAfterReload} after reload, ${maxBeforeReload} before)`,
    );
  });

  it('plays with native HLS when prefer-playback="native" and creates no hls.js instance, or with hls.js where the engine has no native HLS', async () => {
    const engine = currentEngine();
    const hls = await trackHls();
    try {
      const player = mount(fixtures.videos.ready, { 'prefer-playback': 'native', autoplay: 'muted' });
      await waitFor(() => player.currentTime > 1, 'playback past 1 s');
      if (engine === 'chromium') {
        equal(hls.created(), 0, 'hls.js instances');
        assert(player.media.src.includes('/playlist.m3u8'), 'playlist is the video source');
      } else {
        // Firefox and WebKitGTK have no native HLS (only Apple's WebKit and Chromium do): the preference falls
        // back to hls.js on MSE.
        equal(player.media.canPlayType('application/vnd.apple.mpegurl'), '', `${engine}: native HLS`);
        equal(hls.created(), 1, `${engine}: hls.js instances`);
      }
    } finally {
      hls.restore();
    }
  });

  it('leaves no hls.js instance and no request behind after 50 mounts and removals', async function () {
    this.timeout(120_000);
    const hls = await trackHls();
    const log = (requests = trackRequests());
    try {
      for (let i = 0; i < 50; i++) {
        const player = mount(fixtures.videos.ready);
        const stage = i % 3;
        // Removed as soon as a request has started (usually while it is in flight; a fast local server may
        // already have answered it, which the loop's other stages cover anyway).
        const started = log.urls.length;
        if (stage === 1)
          await waitFor(() => log.inFlight() > 0 || log.urls.length > started, 'a request started');
        if (stage === 2) await nextEvent(player, 'loadedmetadata');
        player.remove();
        equal(hls.live.size, 0, `hls.js instances alive after removal ${i}`);
      }
      await waitFor(() => log.inFlight() === 0, 'no request in flight');
      assert(hls.created() >= 16, `hls.js was used (${hls.created()} instances)`);
      equal(hls.live.size, 0, 'hls.js instances alive');
    } finally {
      hls.restore();
    }
  });
});
