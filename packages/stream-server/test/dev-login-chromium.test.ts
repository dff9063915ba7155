import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { launchChromium, serveFiles } from './helpers/chromium.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// What a page on any other origin would run to sign in as bob on a local server and read his videos.
const THEFT = `<!doctype html><html><body><script>
  window.steal = async (api) => {
    const attempt = async (headers) => {
      try {
        const response = await fetch(api + '/api/dev/token', { method: 'POST', headers, body: '{"user":"bob"}' });
        const text = await response.text();
        return { read: true, status: response.status, token: JSON.parse(text).token ?? null };
      } catch (error) {
        return { read: false, error: String(error) };
      }
    };
    let opaque;
    try {
      const response = await fetch(api + '/api/dev/token', {
        method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"user":"bob"}',
      });
      opaque = { type: response.type, text: await response.text() };
    } catch (error) {
      opaque = { error: String(error) };
    }
    return {
      textPlain: await attempt({ 'content-type': 'text/plain' }),
      json: await attempt({ 'content-type': 'application/json' }),
      opaque,
    };
  };
</script></body></html>`;

describe('the local sign-in, from a page on another origin in Chromium', () => {
  let server: TestServer;
  let attacker: Awaited<ReturnType<typeof serveFiles>>;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  beforeAll(async () => {
    server = await startTestServer('embedded');
    attacker = await serveFiles({ '/': { type: 'text/html', body: THEFT } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await attacker?.close();
    await server?.close();
  });

  it('gives the other page no token, by a simple text/plain POST or a JSON one', async () => {
    expect(new URL(attacker.url).origin).not.toBe(new URL(server.url).origin);
    const page = await browser.context.newPage();
    await page.goto(attacker.url);
    const result = (await page.evaluate((api) => (window as any).steal(api), server.url)) as {
      textPlain: { read: boolean; token?: string | null };
      json: { read: boolean; token?: string | null };
      opaque: { type?: string; text?: string };
    };
    // Neither answer is readable (no CORS), and the opaque one carries nothing the page can see.
    expect(result.textPlain).toMatchObject({ read: false });
    expect(result.json).toMatchObject({ read: false });
    expect(result.opaque.text ?? '').toBe('');
    await page.close();
  });

  it('still signs in the server’s own page', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/healthz`);
    const answer = (await page.evaluate(async () => {
      const response = await fetch('/api/dev/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"user":"bob"}',
      });
      return { status: response.status, body: await response.json() };
    })) as { status: number; body: { token?: string; user?: string } };
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ user: 'bob', token: expect.any(String) });
    await page.close();
  });
});
