// hls.js is fetched only when a video is played through MSE (this file never imports it itself).
import '../src/define.js';
import { equal, FIXTURE_HLS_URL, nextEvent, ready, scriptApi } from './support/browser.js';

const hlsFetched = () =>
  performance.getEntriesByType('resource').some((entry) => /\/hls\.js\/|hls\.m?js/.test(entry.name));

describe('lazy hls.js', () => {
  it('is not loaded by defining the element nor by native playback, and is loaded for MSE playback', async () => {
    equal(hlsFetched(), false, 'hls.js fetched after define');
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
