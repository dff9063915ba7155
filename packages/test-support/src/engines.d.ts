/** An engine the tests play in; `webkit-mms` is WebKit with the classic `MediaSource` hidden, as on an iPhone. */
export type Engine = 'chromium' | 'firefox' | 'webkit' | 'webkit-mms';
/** Engine ids, in the order the runs take them. */
export declare const ENGINES: readonly Engine[];
/** Debian's Firefox ESR, or `FIREFOX_PATH`. */
export declare const FIREFOX_PATH: string;
/** Debian's WebKitGTK WebDriver (package webkit2gtk-driver), or `WEBKIT_DRIVER_PATH`. */
export declare const WEBKIT_DRIVER_PATH: string;
/** WebKitGTK's MiniBrowser, which WebKitWebDriver starts, or `MINIBROWSER_PATH`. */
export declare const MINIBROWSER_PATH: string;
/** The engines of this run: all of them unless `NOTETAKER_ENGINES` names some; an unknown name throws. */
export declare function selectedEngines(env?: Record<string, string | undefined>): Engine[];
/** A human name for an engine id, as test reports show it. */
export declare function engineName(engine: Engine): string;
/** Puppeteer launch options for Debian's Firefox ESR over WebDriver BiDi. */
export declare function firefoxLaunchOptions(executablePath?: string): {
  browser: 'firefox';
  executablePath: string;
  headless: true;
  extraPrefsFirefox: Record<string, unknown>;
};
/** A script that hides the classic `MediaSource` where `ManagedMediaSource` exists (the `webkit-mms` engine). */
export declare const HIDE_CLASSIC_MEDIA_SOURCE: string;
/** The query parameter that tells a page which engine runs it. */
export declare const ENGINE_PARAM: string;
