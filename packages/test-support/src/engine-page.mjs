// One page in any engine, driven from Node with the same few calls: the smoke tests of the examples open their pages
// in Chromium (Playwright), Firefox (Puppeteer over WebDriver BiDi) and WebKitGTK (WebKitWebDriver) alike.
import { chromium } from 'playwright-core';
import * as puppeteer from 'puppeteer-core';
import { chromiumLaunchOptions } from './chromium.mjs';
import { engineName, firefoxLaunchOptions } from './engines.mjs';
import { startWebKitSession } from './webdriver.mjs';

/**
 * Opens a browser of `engine` with one page of `width`×`height`. `evaluate(fn, arg)` runs `fn(arg)` in the page
 * (it must not close over Node values) and resolves with its JSON-able result; `waitFor` polls it until truthy.
 */
export async function openEnginePage(engine, { width = 1024, height = 720 } = {}) {
  const driver = await openDriver(engine, { width, height });
  return {
    engine,
    name: engineName(engine),
    goto: driver.goto,
    evaluate: driver.evaluate,
    async waitFor(fn, arg, { timeoutMs = 30_000, message = 'condition', intervalMs = 200 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await driver.evaluate(fn, arg);
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`${engineName(engine)}: timed out waiting for ${message}`);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    },
    close: driver.close,
  };
}

async function openDriver(engine, viewport) {
  if (engine === 'chromium') {
    const browser = await chromium.launch(chromiumLaunchOptions());
    const page = await browser.newPage({ viewport });
    return {
      goto: async (url) => void (await page.goto(url)),
      evaluate: (fn, arg) => page.evaluate(fn, arg),
      close: () => browser.close(),
    };
  }
  if (engine === 'firefox') {
    const browser = await puppeteer.launch(firefoxLaunchOptions());
    const page = await browser.newPage();
    await page.setViewport(viewport);
    return {
      goto: async (url) => void (await page.goto(url)),
      evaluate: (fn, arg) => page.evaluate(fn, arg),
      close: () => browser.close(),
    };
  }
  if (engine === 'webkit' || engine === 'webkit-mms') {
    const session = await startWebKitSession();
    await session.setWindowSize(viewport.width, viewport.height).catch(() => {});
    return {
      goto: (url) => session.navigate(url),
      async evaluate(fn, arg) {
        const result = await session.executeAsync(
          `const done = arguments[arguments.length - 1];
           Promise.resolve()
             .then(() => (${fn.toString()})(arguments[0]))
             .then((value) => done({ value }), (error) => done({ error: String((error && error.stack) || error) }));`,
          [arg ?? null],
        );
        if (result && 'error' in result) throw new Error(`In ${engineName(engine)}: ${result.error}`);
        return result?.value;
      },
      close: () => session.close(),
    };
  }
  throw new Error(`Unknown engine ${engine}`);
}
