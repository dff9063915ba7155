import type { BrowserLauncher, Reporter } from '@web/test-runner-core';
import type { Engine } from './engines.js';

/** The web-test-runner sessions whose WebKit page stopped answering. */
export declare const hungSessions: Set<string>;
/**
 * A web-test-runner launcher for WebKitGTK's MiniBrowser through WebKitWebDriver (`webdriver` commands work). A
 * page that runs no script for 30 s is reported as hung and its browser stopped.
 */
export declare class WebKitLauncher implements BrowserLauncher {
  constructor(engine?: 'webkit' | 'webkit-mms');
  readonly engine: 'webkit' | 'webkit-mms';
  readonly name: string;
  readonly type: string;
  readonly concurrency: number;
  initialize(): Promise<void>;
  startSession(sessionId: string, url: string): Promise<void>;
  isActive(sessionId: string): boolean;
  getBrowserUrl(sessionId: string): Promise<string | undefined>;
  startDebugSession(): never;
  stopSession(sessionId: string): Promise<{}>;
  stop(): Promise<void>;
  sendKeys(sessionId: string, keys: string[]): Promise<void>;
  sendMouseMove(sessionId: string, x: number, y: number): Promise<void>;
  sendMouseClick(
    sessionId: string,
    x: number,
    y: number,
    button?: 'left' | 'middle' | 'right',
  ): Promise<void>;
  sendMouseDown(sessionId: string, button?: 'left' | 'middle' | 'right'): Promise<void>;
  sendMouseUp(sessionId: string, button?: 'left' | 'middle' | 'right'): Promise<void>;
  resetMouse(sessionId: string): Promise<void>;
}
/** Firefox ESR through Puppeteer (WebDriver BiDi). */
export declare function firefoxLauncher(): BrowserLauncher;
/** One launcher per engine of this run, each running one test file at a time. */
export declare function engineLaunchers(engines?: Engine[]): BrowserLauncher[];
/**
 * Files, browsers and groups of a web-test-runner config: `files` in every engine of this run but `webkit-mms`,
 * which runs only `managedMediaSourceFiles` (the media pipeline's tests).
 */
export declare function engineRuns(options: {
  files: string | string[];
  managedMediaSourceFiles: string | string[];
  engines?: Engine[];
}): {
  files: string | string[];
  browsers: BrowserLauncher[];
  groups: Array<{ name: string; files: string | string[]; browsers: BrowserLauncher[] }>;
};
/** The test page of web-test-runner; in `webkit-mms` it hides the classic `MediaSource` first. */
export declare function engineTestRunnerHtml(testFramework: string): string;
/** Writes the failed test files (engine, file, hung) to the file `NOTETAKER_BROWSER_RUN_REPORT` names. */
export declare function browserRunReporter(file?: string): Reporter;
