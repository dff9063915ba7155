// The browser engines the tests play in, and where each one's system binary is. Every test command runs all of
// them; NOTETAKER_ENGINES (a comma-separated list of ids) narrows a local run, and an unknown id is an error.

/** Engine ids. `webkit-mms` is WebKit with classic `MediaSource` hidden, as on an iPhone: hls.js must use `ManagedMediaSource`. */
export const ENGINES = Object.freeze(['chromium', 'firefox', 'webkit', 'webkit-mms']);

/** Debian's Firefox ESR, or `FIREFOX_PATH`. */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
/** Debian's WebKitGTK WebDriver (package webkit2gtk-driver), or `WEBKIT_DRIVER_PATH`. */
export const WEBKIT_DRIVER_PATH = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
/** WebKitGTK's MiniBrowser, which WebKitWebDriver starts, or `MINIBROWSER_PATH`. */
export const MINIBROWSER_PATH =
  process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** The engines of this run: all of them unless `NOTETAKER_ENGINES` names some. */
export function selectedEngines(env = process.env) {
  const wanted = (env.NOTETAKER_ENGINES ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (wanted.length === 0) return [...ENGINES];
  const unknown = wanted.filter((id) => !ENGINES.includes(id));
  if (unknown.length > 0) {
    throw new Error(`NOTETAKER_ENGINES: unknown engine ${unknown.join(', ')} (known: ${ENGINES.join(', ')})`);
  }
  return ENGINES.filter((id) => wanted.includes(id));
}

/** A human name for an engine id, as test reports show it. */
export function engineName(engine) {
  return {
    chromium: 'Chromium',
    firefox: 'Firefox',
    webkit: 'WebKit',
    'webkit-mms': 'WebKit ManagedMediaSource',
  }[engine];
}

/** Puppeteer launch options for Debian's Firefox ESR over WebDriver BiDi: headless, videos play without a click. */
export function firefoxLaunchOptions(executablePath = FIREFOX_PATH) {
  return {
    browser: 'firefox',
    executablePath,
    headless: true,
    extraPrefsFirefox: {
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'network.captive-portal-service.enabled': false,
    },
  };
}

/**
 * The script that a page of the `webkit-mms` engine runs first: it hides the classic `MediaSource`, as an iPhone
 * has none, so that hls.js (and the element's engine choice) must take `ManagedMediaSource`.
 */
export const HIDE_CLASSIC_MEDIA_SOURCE = `if (window.ManagedMediaSource) { delete window.MediaSource; window.notetakerForcedManagedMediaSource = true; }`;

/** The query parameter that the launchers add to a page's URL to tell the page which engine runs it. */
export const ENGINE_PARAM = 'notetaker-engine';
