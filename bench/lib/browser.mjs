// Time to first frame in a real headless Chromium with hls.js, as a host page on another origin would play.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromiumLaunchOptions } from '@notetaker/test-support/chromium';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

// The page polls /stream like a client would (honouring retry_after), starts hls.js with startPosition 0 on the
// first playable or ready answer, and reports when the video's currentTime first moves past 0.
const PAGE = `<!doctype html><html><body><video id="v" muted playsinline></video>
<script src="/hls.js"></script>
<script>
window.ttff = async (api, id, token) => {
  const video = document.getElementById('v');
  const t0Epoch = Date.now();
  const t0 = performance.now();
  const answers = [];
  let url;
  for (;;) {
    const started = performance.now();
    const response = await fetch(api + '/api/videos/' + id + '/stream', { headers: { authorization: 'Bearer ' + token } });
    const body = await response.json();
    answers.push({ http: response.status, status: body.status, playable: body.playable === true, ms: Math.round(performance.now() - started) });
    if (body.status === 'ready' || (body.status === 'generating' && body.playable && body.hls_url)) { url = body.hls_url; break; }
    if (response.status >= 400 || body.status === 'failed') throw new Error('/stream answered ' + response.status + ' ' + JSON.stringify(body));
    await new Promise((resolve) => setTimeout(resolve, (body.retry_after ?? 2) * 1000));
  }
  const urlAt = performance.now();
  const hls = new Hls({ startPosition: 0 });
  // When each step of the start first happened, in ms since the first /stream call.
  const phases = {};
  const mark = (name) => { phases[name] ??= Math.round(performance.now() - t0); };
  hls.on(Hls.Events.MANIFEST_LOADED, () => mark('playlist'));
  hls.on(Hls.Events.FRAG_LOADED, () => mark('segment'));
  hls.on(Hls.Events.FRAG_BUFFERED, () => mark('buffered'));
  await new Promise((resolve, reject) => {
    hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) reject(new Error(data.type + ': ' + data.details)); });
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(reject));
    hls.loadSource(url);
    hls.attachMedia(video);
    const check = () => (video.currentTime > 0 ? resolve() : setTimeout(check, 5));
    check();
  });
  const firstFrameAt = performance.now();
  const live = hls.levels[0]?.details?.live ?? null;
  hls.destroy();
  video.removeAttribute('src');
  video.load();
  return { ttffMs: firstFrameAt - t0, urlMs: urlAt - t0, t0Epoch, answers, live, phases };
};
</script></body></html>`;

export async function startBrowser({ chromiumPath }) {
  const hlsJs = await readFile(require.resolve('hls.js/dist/hls.min.js'));
  const host = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else if (path === '/hls.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(hlsJs);
    else res.writeHead(404).end();
  });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  const hostUrl = `http://127.0.0.1:${host.address().port}/`;
  const profile = await mkdtemp(join(tmpdir(), 'notetaker-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, chromiumLaunchOptions(chromiumPath));
  return {
    /** Loads the host page, then measures from the first /stream call to the first frame. */
    async measureTtff({ api, videoId, token }) {
      const page = await context.newPage();
      try {
        await page.goto(hostUrl);
        return await page.evaluate(([a, id, t]) => window.ttff(a, id, t), [api, videoId, token]);
      } finally {
        await page.close();
      }
    },
    async close() {
      await context.close().catch(() => {});
      await new Promise((resolve) => host.close(resolve));
      await rm(profile, { recursive: true, force: true });
    },
  };
}
