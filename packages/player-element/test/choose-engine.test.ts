import { chooseEngine, detectEngineEnvironment } from '../src/engine/choose-engine.js';
import { currentEngine, equal } from './support/browser.js';

const SAFARI_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15';
const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
const FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:132.0) Gecko/20100101 Firefox/132.0';

const hlsVideo = { canPlayType: () => 'maybe' as const };
const noHlsVideo = { canPlayType: () => '' as const };
const mse = { isTypeSupported: () => true };
const scope = (userAgent: string, extra: Record<string, unknown> = {}) => ({
  navigator: { userAgent, maxTouchPoints: 0 } as unknown as Navigator,
  ...extra,
});

describe('engine choice', () => {
  it('picks hls.js in this browser: Chromium answers "maybe" to HLS, Firefox and WebKitGTK have no native HLS', () => {
    const engine = currentEngine();
    const video = document.createElement('video');
    const env = detectEngineEnvironment(video);
    // Native HLS exists only in Chromium (which plays it, but worse than hls.js) and on Apple platforms; Firefox
    // and WebKitGTK (Linux) have none, so the element can only fall back to hls.js on MSE there.
    equal(env.nativeHls, engine === 'chromium', `${engine} claims native HLS`);
    equal(env.apple, false, `${engine} on Linux is not an Apple platform`);
    equal(env.mse, true, `${engine} has MSE for H.264/AAC`);
    equal(chooseEngine(env), 'mse', 'engine');
    equal(chooseEngine(env, 'native'), engine === 'chromium' ? 'native' : 'mse', 'native preferred');
  });

  it('finds MSE through ManagedMediaSource when the classic MediaSource is missing, as on an iPhone', () => {
    const engine = currentEngine();
    const managed = 'ManagedMediaSource' in window;
    // WebKit has ManagedMediaSource (as Safari 17+ does); Chromium and Firefox have only the classic one.
    equal(managed, engine === 'webkit' || engine === 'webkit-mms', `${engine} has ManagedMediaSource`);
    equal('MediaSource' in window, engine !== 'webkit-mms', `${engine} has the classic MediaSource`);
    const video = document.createElement('video');
    const own = (window as unknown as { ManagedMediaSource?: unknown }).ManagedMediaSource;
    const iphoneLike = { navigator, ManagedMediaSource: own ?? mse };
    equal(detectEngineEnvironment(video, iphoneLike).mse, true, 'MSE through ManagedMediaSource');
  });

  it('picks native HLS on Safari for macOS and on iPhone', () => {
    equal(
      chooseEngine(detectEngineEnvironment(hlsVideo, scope(SAFARI_MAC, { MediaSource: mse }))),
      'native',
      'Safari',
    );
    equal(
      chooseEngine(detectEngineEnvironment(hlsVideo, scope(IPHONE, { ManagedMediaSource: mse }))),
      'native',
      'iPhone with ManagedMediaSource',
    );
  });

  it('picks hls.js for Chrome and Firefox on macOS', () => {
    equal(
      chooseEngine(detectEngineEnvironment(hlsVideo, scope(CHROME_MAC, { MediaSource: mse }))),
      'mse',
      'Chrome',
    );
    equal(
      chooseEngine(detectEngineEnvironment(noHlsVideo, scope(FIREFOX_MAC, { MediaSource: mse }))),
      'mse',
      'Firefox',
    );
  });

  it('detects iPadOS that presents itself as a Mac', () => {
    const ipad = { navigator: { userAgent: SAFARI_MAC, maxTouchPoints: 5 } as unknown as Navigator };
    equal(detectEngineEnvironment(hlsVideo, ipad).apple, true, 'apple');
  });

  it('honours prefer-playback when the preferred path exists', () => {
    const chromium = { mse: true, nativeHls: true, apple: false };
    const safari = { mse: true, nativeHls: true, apple: true };
    equal(chooseEngine(chromium, 'native'), 'native', 'native preferred in Chromium');
    equal(chooseEngine(safari, 'mse'), 'mse', 'MSE preferred on Safari');
    equal(
      chooseEngine({ mse: false, nativeHls: true, apple: false }, 'mse'),
      'native',
      'MSE preferred but missing',
    );
  });

  it('reports no engine when the browser has neither MSE nor native HLS', () => {
    equal(chooseEngine({ mse: false, nativeHls: false, apple: false }), 'none', 'engine');
    equal(chooseEngine(detectEngineEnvironment(noHlsVideo, scope(FIREFOX_MAC))), 'none', 'detected');
  });
});
