// hls.js is fetched only when a video is played through MSE (this file never imports it itself).
import '../src/define.js';
import { currentEngine, equal, FIXTURE_HLS_URL, nextEvent, ready, scriptApi } from './support/browser.js';

const hlsFetched = () =>
  performance.getEntriesByType('resource').some((entry) => /\/hls\.js\/|hls\.m?js/.test(entry.name));

describe('lazy hls.js', () => {
  it('is not loaded by defining the element nor by native playback, and is loaded for MSE playback', async () => {
    equal(hlsFetched(), false, 'hls.js fetched after define');
    // Only Chromium (here) has native HLS: elsewhere prefer-playback="native" falls back to hls.js, tested below.
    if (currentEngine() !== 'chromium') return expectNativePreferenceFallsBackToHls();
    const api = scriptApi(() => ready(FIXTURE_HLS_URL));
    try {
      const native = document.createElement('notetaker-player');
      native.setAttribute('prefer-playback', 'native');
      native.setAttribute('api-base', api.base);
      native.setAttribute('video-id', 'a');
      document.body.append(native);
      await nextEvent(native, 'loadedmetadata');
      native.remove();
      equal(hlsFetched(), false, 'hls.js fetched after native playback');
      const mse = document.createElement('notetaker-player');
      mse.setAttribute('api-base', api.base);
      mse.setAttribute('video-id', 'b');
      document.body.append(mse);
      await nextEvent(mse, 'loadedmetadata');
      mse.remove();
      equal(hlsFetched(), true, 'hls.js fetched for MSE playback');
    } finally {
      api.restore();
    }
  });
});

/** Firefox and WebKitGTK have no native HLS: `prefer-playback="native"` plays through hls.js instead. */
async function expectNativePreferenceFallsBackToHls(): Promise<void> {
  const api = scriptApi(() => ready(FIXTURE_HLS_URL));
  try {
    const player = document.createElement('notetaker-player');
    player.setAttribute('prefer-playback', 'native');
    player.setAttribute('api-base', api.base);
    player.setAttribute('video-id', 'a');
    document.body.append(player);
    await nextEvent(player, 'loadedmetadata');
    player.remove();
    equal(document.createElement('video').canPlayType('application/vnd.apple.mpegurl'), '', 'native HLS');
    equal(hlsFetched(), true, 'hls.js fetched for the native preference without native HLS');
  } finally {
    api.restore();
  }
}
