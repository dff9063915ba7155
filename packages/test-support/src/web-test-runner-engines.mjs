// web-test-runner launchers for every engine the tests play in: the system Chromium through Playwright, Debian's
// Firefox ESR through Puppeteer over WebDriver BiDi, and WebKitGTK through WebKitWebDriver (twice: hls.js's default
// MediaSource path, and ManagedMediaSource forced as on an iPhone). A missing browser fails the run; it is never
// skipped.
import { writeFileSync } from 'node:fs';
import { chromeLauncher } from '@web/test-runner-chrome';
import { playwrightLauncher } from '@web/test-runner-playwright';
import * as puppeteer from 'puppeteer-core';
import { chromiumLaunchOptions } from './chromium.mjs';
import {
  ENGINE_PARAM,
  HIDE_CLASSIC_MEDIA_SOURCE,
  engineName,
  firefoxLaunchOptions,
  selectedEngines,
} from './engines.mjs';
import { startWebKitSession } from './webdriver.mjs';

const MOUSE_BUTTONS = { left: 0, middle: 1, right: 2 };

/** How often a WebKit test page is asked to run a script, and how long it has to answer. */
const PAGE_CHECK_INTERVAL_MS = 10_000;
const PAGE_ANSWER_TIMEOUT_MS = 30_000;

/**
 * The web-test-runner sessions whose WebKit page stopped answering (see `WebKitLauncher`); `browserRunReporter`
 * tells `run-browser-tests` which test files they were.
 */
export const hungSessions = new Set();

function withEngineParam(url, engine) {
  const parsed = new URL(url);
  parsed.searchParams.set(ENGINE_PARAM, engine);
  return parsed.href;
}

/**
 * A web-test-runner launcher for WebKitGTK's MiniBrowser. One window runs one test file at a time (give it
 * `concurrency: 1`); it implements the `webdriver` launcher commands so that `sendKeys` and `sendMouse` work.
 *
 * WebKitGTK's media pipeline sometimes deadlocks inside a call from the page (a seek or a teardown of a
 * MediaSource video waits forever on a GStreamer lock): the page's main thread is blocked, so neither its tests'
 * timeouts nor web-test-runner's notice, and the run would wait out `testsFinishTimeout`. So a page that does not
 * run a script within 30 s is reported as hung: this browser is stopped (the file fails, the next file gets a new
 * browser) and the session is added to `hungSessions`.
 */
export class WebKitLauncher {
  type = 'webdriver';
  concurrency = 1;
  engine;
  #session;
  #starting;
  #active = new Map();
  #checks = new Map();
  /** The page address of each hung session, which web-test-runner asks for when the page's connection drops. */
  #hungUrls = new Map();

  /** @param {'webkit' | 'webkit-mms'} engine */
  constructor(engine = 'webkit') {
    this.engine = engine;
    this.name = engineName(engine);
  }

  async initialize() {}

  #browser() {
    this.#starting ??= startWebKitSession().then(async (session) => {
      this.#session = session;
      await session.setWindowSize(800, 600).catch(() => {});
      return session;
    });
    return this.#starting;
  }

  async startSession(sessionId, url) {
    const session = await this.#browser();
    const pageUrl = withEngineParam(url, this.engine);
    this.#active.set(sessionId, pageUrl);
    await session.navigate(pageUrl);
    this.#watch(sessionId, session);
  }

  /** Asks the page of `sessionId` to run a script every 10 s while the session runs (see the class comment). */
  #watch(sessionId, session) {
    const check = async () => {
      const answered = await session.responsive(PAGE_ANSWER_TIMEOUT_MS).catch(() => true);
      if (!this.#active.has(sessionId) || this.#session !== session) return;
      if (answered) {
        this.#checks.set(sessionId, setTimeout(check, PAGE_CHECK_INTERVAL_MS));
        return;
      }
      hungSessions.add(sessionId);
      this.#hungUrls.set(sessionId, this.#active.get(sessionId));
      console.error(
        `\n${this.name}: the test page stopped answering for ${PAGE_ANSWER_TIMEOUT_MS / 1000} s (its main thread is ` +
          'blocked, as when WebKitGTK deadlocks in its media pipeline); stopping this browser. The test file fails; ' +
          'the next one gets a new browser.',
      );
      this.#active.delete(sessionId);
      this.#session = undefined;
      this.#starting = undefined;
      session.kill();
    };
    this.#checks.set(sessionId, setTimeout(check, PAGE_CHECK_INTERVAL_MS));
  }

  isActive(sessionId) {
    return this.#active.has(sessionId);
  }

  async getBrowserUrl(sessionId) {
    // A hung page is still where it was: web-test-runner then reports that the browser disconnected.
    if (this.#hungUrls.has(sessionId)) return this.#hungUrls.get(sessionId);
    return this.#active.has(sessionId) ? (await this.#browser()).currentUrl() : undefined;
  }

  startDebugSession() {
    throw new Error('Debugging is not supported in WebKit here: run the tests in Chromium with --manual.');
  }

  async stopSession(sessionId) {
    clearTimeout(this.#checks.get(sessionId));
    this.#checks.delete(sessionId);
    this.#active.delete(sessionId);
    await this.#session?.navigate('about:blank');
    return {};
  }

  async stop() {
    for (const timer of this.#checks.values()) clearTimeout(timer);
    this.#checks.clear();
    const session = await this.#starting?.catch(() => undefined);
    await session?.close();
  }

  async sendKeys(sessionId, keys) {
    await (await this.#browser()).pressKeys(keys);
  }

  async sendMouseMove(sessionId, x, y) {
    await (await this.#browser()).mouseMove(x, y);
  }

  async sendMouseClick(sessionId, x, y, button = 'left') {
    const session = await this.#browser();
    await session.mouseMove(x, y);
    await session.mouseDown(MOUSE_BUTTONS[button]);
    await session.mouseUp(MOUSE_BUTTONS[button]);
  }

  async sendMouseDown(sessionId, button = 'left') {
    await (await this.#browser()).mouseDown(MOUSE_BUTTONS[button]);
  }

  async sendMouseUp(sessionId, button = 'left') {
    await (await this.#browser()).mouseUp(MOUSE_BUTTONS[button]);
  }

  async resetMouse() {
    const session = await this.#browser();
    await session.releaseActions();
    await session.mouseMove(0, 0);
  }
}

/** Firefox ESR through Puppeteer (WebDriver BiDi): a `puppeteer` launcher, so `sendKeys`/`sendMouse` work. */
export function firefoxLauncher() {
  return chromeLauncher({ puppeteer, launchOptions: firefoxLaunchOptions(), concurrency: 1 });
}

/** One launcher per engine of this run (see `selectedEngines`), each running one test file at a time. */
export function engineLaunchers(engines = selectedEngines()) {
  return engines.map((engine) => {
    if (engine === 'chromium') {
      return playwrightLauncher({
        product: 'chromium',
        launchOptions: chromiumLaunchOptions(),
        concurrency: 1,
      });
    }
    if (engine === 'firefox') return firefoxLauncher();
    return new WebKitLauncher(engine);
  });
}

/**
 * The files, browsers and groups of a web-test-runner config for every engine of this run: `files` run in each
 * engine but `webkit-mms`, which runs only `managedMediaSourceFiles`. That engine differs from `webkit` only in the
 * media source hls.js plays through, so only the tests of the media pipeline need it again; the rest would repeat
 * the `webkit` run. A config's `concurrentBrowsers` counts every group's browsers (docs/decisions/0033).
 */
export function engineRuns({ files, managedMediaSourceFiles, engines = selectedEngines() }) {
  const others = engines.filter((engine) => engine !== 'webkit-mms');
  const managed = engines.includes('webkit-mms') ? engineLaunchers(['webkit-mms']) : [];
  if (others.length === 0) return { files: managedMediaSourceFiles, browsers: managed, groups: [] };
  return {
    files,
    browsers: engineLaunchers(others),
    groups:
      managed.length > 0 ? [{ name: 'webkit-mms', files: managedMediaSourceFiles, browsers: managed }] : [],
  };
}

/**
 * The test page of web-test-runner: in the `webkit-mms` engine it first hides the classic `MediaSource` (see
 * `HIDE_CLASSIC_MEDIA_SOURCE`), before any test module runs.
 */
export function engineTestRunnerHtml(testFramework) {
  return `<!DOCTYPE html>
<html>
  <head>
    <script>
      if (new URLSearchParams(location.search).get(${JSON.stringify(ENGINE_PARAM)}) === 'webkit-mms') {
        ${HIDE_CLASSIC_MEDIA_SOURCE}
      }
    </script>
  </head>
  <body>
    <script type="module" src="${testFramework}"></script>
  </body>
</html>`;
}

/**
 * A web-test-runner reporter for `run-browser-tests`: writes the run's failed test files, each with its engine and
 * whether its WebKit page hung, to the JSON file that `NOTETAKER_BROWSER_RUN_REPORT` names (nothing without it).
 */
export function browserRunReporter(file = process.env.NOTETAKER_BROWSER_RUN_REPORT) {
  return {
    onTestRunFinished({ sessions }) {
      if (!file) return;
      const failed = sessions
        .filter((session) => !session.passed)
        .map((session) => ({
          engine: session.browser.engine ?? session.browser.name,
          testFile: session.testFile,
          hung: hungSessions.has(session.id),
        }));
      writeFileSync(file, JSON.stringify({ failed }, null, 2));
    },
  };
}
