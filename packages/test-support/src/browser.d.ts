/** Throws `Assertion failed: <message>` unless `condition` is truthy. */
export declare function assert(condition: unknown, message: string): asserts condition;
/** Throws unless `actual` is `expected` (Object.is), showing both. */
export declare function equal<T>(actual: T, expected: T, message: string): void;
/**
 * Resolves with the first truthy value of `check`, polling every 20 ms; fails after `timeoutMs` with `message` (a
 * function is called then, to describe the state that did not change).
 */
export declare function waitFor<T>(
  check: () => T,
  message: string | (() => string),
  timeoutMs?: number,
): Promise<NonNullable<T>>;
/** The next `type` event of `target`; rejects after `timeoutMs`. */
export declare function nextEvent<E extends Event = Event>(
  target: EventTarget,
  type: string,
  timeoutMs?: number,
): Promise<E>;
/** Counts hls.js instances: attached and not yet destroyed. */
export declare function trackHls(): Promise<{ live: Set<object>; created(): number; restore(): void }>;
/** Runs axe-core on `root` (shadow DOM included) and fails with the violations' summary. */
export declare function expectNoAxeViolations(root: Element): Promise<void>;
/**
 * The engine running this page: `chromium`, `firefox`, `webkit`, or `webkit-mms` (WebKit with the classic
 * `MediaSource` hidden before the tests ran, as on an iPhone).
 */
export declare function currentEngine(): 'chromium' | 'firefox' | 'webkit' | 'webkit-mms';
