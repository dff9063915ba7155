// Browser-side helpers of the tests that run in Chromium through web-test-runner: assertions, waiting for a condition
// or an event, counting hls.js instances, and an axe-core accessibility check.

/** Throws `Assertion failed: <message>` unless `condition` is truthy. */
export function assert(condition, message) {
  if (!condition) throw new Error(`Assertion failed: ${message}`);
}

/** Throws unless `actual` is `expected` (Object.is), showing both. */
export function equal(actual, expected, message) {
  if (!Object.is(actual, expected)) {
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/**
 * Resolves with the first truthy value of `check`, polling every 20 ms; fails after `timeoutMs` with `message` (a
 * function is called then, to describe the state that did not change).
 */
export async function waitFor(check, message, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (performance.now() > deadline)
      throw new Error(`Timed out waiting for: ${typeof message === 'function' ? message() : message}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The next `type` event of `target`; rejects after `timeoutMs`. */
export function nextEvent(target, type, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`No "${type}" event within ${timeoutMs} ms`)), timeoutMs);
    target.addEventListener(
      type,
      (event) => {
        clearTimeout(timer);
        resolve(event);
      },
      { once: true },
    );
  });
}

/** Counts hls.js instances: attached and not yet destroyed. */
export async function trackHls() {
  const Hls = (await import('hls.js')).default;
  const proto = Hls.prototype;
  const { attachMedia, destroy } = proto;
  const live = new Set();
  let created = 0;
  proto.attachMedia = function (...args) {
    if (!live.has(this)) created++;
    live.add(this);
    return attachMedia.apply(this, args);
  };
  proto.destroy = function () {
    live.delete(this);
    return destroy.call(this);
  };
  return {
    live,
    created: () => created,
    restore: () => {
      proto.attachMedia = attachMedia;
      proto.destroy = destroy;
    },
  };
}

/** Runs axe-core on `root` (shadow DOM included) and fails with the violations' summary. */
export async function expectNoAxeViolations(root) {
  await import('axe-core/axe.min.js');
  const axe = window.axe;
  const result = await axe.run(root, { resultTypes: ['violations'] });
  const summary = result.violations.map(
    (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
  );
  equal(summary.join('\n'), '', 'axe violations');
}

/**
 * The engine running this page: `chromium`, `firefox`, `webkit`, or `webkit-mms` (WebKit with the classic
 * `MediaSource` hidden before the tests ran, as on an iPhone).
 */
export function currentEngine() {
  const ua = navigator.userAgent;
  if (/Firefox\//.test(ua)) return 'firefox';
  if (/Chrom(e|ium)\//.test(ua)) return 'chromium';
  if (/AppleWebKit\//.test(ua)) {
    return globalThis.notetakerForcedManagedMediaSource ? 'webkit-mms' : 'webkit';
  }
  throw new Error(`Unknown engine: ${ua}`);
}
