/** A MiniBrowser session of WebKitWebDriver (W3C WebDriver classic). */
export interface WebKitSession {
  readonly sessionId: string;
  navigate(url: string): Promise<void>;
  currentUrl(): Promise<string>;
  /** Runs `script` (a function body; `arguments` holds `args`) and returns its JSON-able value. */
  execute(script: string, args?: unknown[]): Promise<unknown>;
  /** Like `execute`, for a body that calls `arguments[arguments.length - 1](value)` when done. */
  executeAsync(script: string, args?: unknown[]): Promise<unknown>;
  setScriptTimeout(ms: number): Promise<void>;
  setWindowSize(width: number, height: number): Promise<void>;
  /** Presses and releases each key (names as Playwright/Puppeteer spell them, or single characters). */
  pressKeys(names: string[]): Promise<void>;
  mouseMove(x: number, y: number): Promise<void>;
  mouseDown(button?: number): Promise<void>;
  mouseUp(button?: number): Promise<void>;
  releaseActions(): Promise<void>;
  /** Whether the page runs a script within `timeoutMs` (false: its main thread is blocked). */
  responsive(timeoutMs: number): Promise<boolean>;
  /** Stops the driver's process group at once, without ending the session. */
  kill(): void;
  /** Ends the session and the driver's process group (xvfb-run, Xvfb, WebKitWebDriver, MiniBrowser). */
  close(): Promise<void>;
}
/** The WebDriver value of a key name (`ArrowRight`, `Enter`, a single character). */
export declare function webDriverKey(name: string): string;
/** Starts WebKitWebDriver under `xvfb-run -a` and opens a MiniBrowser session. */
export declare function startWebKitSession(options?: {
  driverPath?: string;
  browserPath?: string;
  startTimeoutMs?: number;
}): Promise<WebKitSession>;
