// A minimal W3C WebDriver (classic) client and the WebKitGTK driver process it talks to. WebKitWebDriver starts
// MiniBrowser, which needs a display: the driver runs under `xvfb-run -a`, in its own process group so that stopping
// it also stops Xvfb and the browser.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { MINIBROWSER_PATH, WEBKIT_DRIVER_PATH } from './engines.mjs';

/** WebDriver key values for the key names the tests press (Playwright/Puppeteer names). */
const KEYS = {
  Enter: '\uE007',
  Escape: '\uE00C',
  ' ': ' ',
  Space: ' ',
  Tab: '\uE004',
  Backspace: '\uE003',
  End: '\uE010',
  Home: '\uE011',
  ArrowLeft: '\uE012',
  ArrowUp: '\uE013',
  ArrowRight: '\uE014',
  ArrowDown: '\uE015',
  PageUp: '\uE00E',
  PageDown: '\uE00F',
  Shift: '\uE008',
};

/** The WebDriver value of a key name (`ArrowRight`, `Enter`, a single character). */
export function webDriverKey(name) {
  if (name in KEYS) return KEYS[name];
  if ([...name].length === 1) return name;
  throw new Error(`No WebDriver key for "${name}"`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForStatus(base, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${base}/status`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`WebKitWebDriver did not answer on ${base} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts WebKitWebDriver under xvfb-run and opens a MiniBrowser session. `close()` ends the session and the
 * driver's whole process group.
 */
export async function startWebKitSession({
  driverPath = WEBKIT_DRIVER_PATH,
  browserPath = MINIBROWSER_PATH,
  startTimeoutMs = 60_000,
} = {}) {
  const port = await freePort();
  const child = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', driverPath, `--port=${port}`], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const spawned = new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  const kill = () => {
    process.off('exit', kill);
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  // Also when the runner exits without stopping its browsers (Ctrl-C, a crash): no Xvfb or MiniBrowser is left.
  process.once('exit', kill);
  try {
    await spawned;
    const base = `http://127.0.0.1:${port}`;
    await waitForStatus(base, child, startTimeoutMs);
    const { sessionId } = await request(base, 'POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary: browserPath, args: ['--automation'] },
        },
      },
    });
    return createSession(base, sessionId, kill);
  } catch (error) {
    kill();
    throw new Error(`Could not start WebKit (${driverPath}): ${error.message}\n${stderr}`, { cause: error });
  }
}

async function request(base, method, path, body, signal) {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const { error, message } = json.value ?? {};
    throw new Error(`WebDriver ${method} ${path}: ${response.status} ${error ?? ''} ${message ?? text}`);
  }
  return json.value;
}

function createSession(base, sessionId, kill) {
  const call = (method, path, body, signal) =>
    request(base, method, `/session/${sessionId}${path}`, body, signal);
  const pointer = (actions) =>
    call('POST', '/actions', {
      actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions }],
    });
  return {
    sessionId,
    navigate: (url) => call('POST', '/url', { url }),
    currentUrl: () => call('GET', '/url'),
    /** Runs `script` (a function body; `arguments` holds `args`) and returns its JSON-able value. */
    execute: (script, args = []) => call('POST', '/execute/sync', { script, args }),
    /** Like `execute`, for a body that calls `arguments[arguments.length - 1](value)` when done. */
    executeAsync: (script, args = []) => call('POST', '/execute/async', { script, args }),
    setScriptTimeout: (ms) => call('POST', '/timeouts', { script: ms }),
    setWindowSize: (width, height) => call('POST', '/window/rect', { width, height }),
    /**
     * Whether the page runs a script within `timeoutMs`. A page whose main thread is blocked (WebKitGTK's media
     * pipeline can deadlock inside a call from the page) answers nothing, not even an error.
     */
    async responsive(timeoutMs) {
      try {
        await call('POST', '/execute/sync', { script: 'return 1', args: [] }, AbortSignal.timeout(timeoutMs));
        return true;
      } catch (error) {
        if (error?.name === 'TimeoutError') return false;
        throw error;
      }
    },
    /** Stops the driver's process group at once, without ending the session (for a page that no longer answers). */
    kill,
    async pressKeys(names) {
      const keys = names.map(webDriverKey);
      await call('POST', '/actions', {
        actions: [
          {
            type: 'key',
            id: 'keyboard',
            actions: keys.flatMap((value) => [
              { type: 'keyDown', value },
              { type: 'keyUp', value },
            ]),
          },
        ],
      });
    },
    mouseMove: (x, y) =>
      pointer([{ type: 'pointerMove', x: Math.round(x), y: Math.round(y), origin: 'viewport' }]),
    mouseDown: (button = 0) => pointer([{ type: 'pointerDown', button }]),
    mouseUp: (button = 0) => pointer([{ type: 'pointerUp', button }]),
    releaseActions: () => call('DELETE', '/actions'),
    async close() {
      await call('DELETE', '').catch(() => {});
      kill();
    },
  };
}
