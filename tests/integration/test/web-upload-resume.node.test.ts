// The web page (apps/web, as built) in Chromium: an upload interrupted by a page reload resumes when the user picks
// the same file again. The page is served through an HTTP proxy in front of the server (the server's public URL, so
// storage URLs go through it too) that records every request reaching the server and can hold part uploads back,
// standing in for a slow network: the reload comes while parts are on their way, deterministically.
//
// The file is 31 MiB (7 parts of 5 MiB) on every run; `LARGE_UPLOAD_BYTES=1073741824` runs the same test at 1 GB
// (`npm run test:upload-1gb` in this package).
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { startServer } from '@notetaker/stream-server';
import { launchChromium } from '@notetaker/test-support/chromium';
import { runFfmpeg, testSourceArgs } from '@notetaker/test-support/media';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WEB_DIR = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@notetaker/web/package.json')),
  'dist',
);
const MiB = 1024 * 1024;
/** The smallest part size the server takes (S3's minimum). */
const PART = 5 * MiB;
const SIZE = Number(process.env['LARGE_UPLOAD_BYTES'] ?? 6 * PART + MiB);
/** The part size the server picks (`partSizeFor`: larger parts above 1,000 of them). */
const PART_SIZE = Math.max(PART, Math.ceil(SIZE / 1000 / MiB) * MiB);
const PARTS = Math.ceil(SIZE / PART_SIZE);
/** Parts stored before the reload; the later ones are held back until it. */
const BEFORE_RELOAD = Math.floor(PARTS / 2);

interface Recorded {
  method: string;
  path: string;
  part: number | undefined;
  /** The server's status, or `held` for a request the proxy kept back and never forwarded. */
  outcome: number | 'held' | 'pending';
}

/**
 * An HTTP proxy in front of `port` that records every request and forwards it, except those `hold` picks: they are
 * never forwarded nor answered (a request stuck on a slow link), until their client gives up on them.
 */
async function startRecordingProxy(port: number) {
  const requests: Recorded[] = [];
  let hold: ((request: Recorded) => boolean) | undefined;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const part = url.searchParams.get('partNumber');
    const record: Recorded = {
      method: req.method ?? 'GET',
      path: url.pathname,
      part: part === null ? undefined : Number(part),
      outcome: 'pending',
    };
    requests.push(record);
    if (hold?.(record)) {
      record.outcome = 'held';
      req.resume();
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        record.outcome = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests,
    hold(rule?: (request: Recorded) => boolean) {
      hold = rule;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the web page, reloaded in the middle of an upload', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let server: Awaited<ReturnType<typeof startServer>>;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let dir: string;

  beforeAll(async () => {
    await fs.access(path.join(WEB_DIR, 'index.html')).catch(() => {
      throw new Error(`No built web page in ${WEB_DIR}: run \`npm run build\` at the repository root first.`);
    });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-web-resume-'));
    const port = await freePort();
    proxy = await startRecordingProxy(port);
    server = await startServer({
      env: {
        DATA_DIR: path.join(dir, 'data'),
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: proxy.url,
        WEB_DIR,
        WORKER_POLL_MS: '200',
        MULTIPART_THRESHOLD_BYTES: '1',
        MULTIPART_PART_BYTES: String(PART),
        MAX_UPLOAD_BYTES: String(2 * SIZE),
      },
      logger: 'silent',
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await server?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /**
   * A real MP4 followed by pseudo-random bytes (an AES-CTR keystream) up to `SIZE`, streamed to disk and hashed as
   * it is written.
   */
  async function makeFile(): Promise<{ file: string; size: number; sha256: string }> {
    const clip = path.join(dir, 'clip.mp4');
    await runFfmpeg([...testSourceArgs(2), '-movflags', '+faststart', clip]);
    const head = await fs.readFile(clip);
    const file = path.join(dir, 'team-meeting.mp4');
    const out = createWriteStream(file);
    const hash = createHash('sha256');
    const keystream = createCipheriv('aes-128-ctr', randomBytes(16), randomBytes(16));
    const zeros = Buffer.alloc(MiB);
    const write = async (chunk: Buffer) => {
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    };
    await write(head);
    for (let left = SIZE - head.length; left > 0; left -= MiB) {
      await write(keystream.update(zeros).subarray(0, Math.min(MiB, left)));
    }
    out.end();
    await once(out, 'finish');
    return { file, size: SIZE, sha256: hash.digest('hex') };
  }

  /** Records every value the upload progress bar shows (kept on `window`, so a reload starts a new list). */
  const watchProgress = (page: Page) =>
    page.evaluate(() => {
      (window as any).progressSeen = [];
      new MutationObserver(() => {
        for (const bar of document.querySelectorAll<HTMLProgressElement>('#uploads progress')) {
          (window as any).progressSeen.push(bar.value);
        }
      }).observe(document.getElementById('uploads')!, { subtree: true, attributes: true, childList: true });
    });

  const partPuts = (from = 0) =>
    proxy.requests.slice(from).filter((r) => r.method === 'PUT' && r.part !== undefined);

  it(
    'resumes after the reload when the same file is picked again: only the missing parts are sent',
    async () => {
      const { file, size, sha256 } = await makeFile();
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(proxy.url);
      await page.fill('#dev-user', 'rosa');
      await page.click('#dev-login button[type=submit]');
      await page.waitForSelector('#app:not([hidden])');
      await watchProgress(page);

      // The link slows to a stop after half the parts: the later ones are held back.
      proxy.hold((r) => r.method === 'PUT' && (r.part ?? 0) > BEFORE_RELOAD);
      await page.setInputFiles('#file-input', file);
      const first = Array.from({ length: BEFORE_RELOAD }, (_, i) => `${i + 1}:200`);
      await expect
        .poll(() => partPuts().map((r) => `${r.part}:${r.outcome}`), { timeout: 60_000 + SIZE / 20_000 })
        .toEqual(expect.arrayContaining([...first, `${BEFORE_RELOAD + 1}:held`]));
      const stored = (BEFORE_RELOAD * PART_SIZE) / size;
      await expect
        .poll(async () => ((await page.evaluate(() => (window as any).progressSeen)) as number[]).at(-1))
        .toBeGreaterThanOrEqual(stored);
      expect(((await page.evaluate(() => (window as any).progressSeen)) as number[]).at(-1)).toBeLessThan(1);
      const registration = proxy.requests.filter((r) => r.method === 'POST' && r.path === '/api/videos');
      expect(registration).toHaveLength(1);

      // The page is reloaded; the held uploads die with it. The network is fine again.
      await page.reload();
      proxy.hold();
      const reloadedAt = proxy.requests.length;
      await page.waitForSelector('#app:not([hidden])');
      await watchProgress(page);
      await page.setInputFiles('#file-input', file);

      const upload = page.locator('#uploads li').first();
      await expect
        .poll(() => upload.getAttribute('data-state'), { timeout: 60_000 + SIZE / 20_000 })
        .toBe('done');
      expect(await upload.getAttribute('data-resumed')).toBe('true');

      // No new registration; the page asked where the upload stood and sent the other parts, each once.
      const after = proxy.requests.slice(reloadedAt);
      expect(after.filter((r) => r.method === 'POST' && r.path === '/api/videos')).toEqual([]);
      const asked = after.find((r) => r.method === 'GET' && /^\/api\/videos\/[^/]+\/upload$/.test(r.path));
      expect(asked?.outcome).toBe(200);
      expect(
        partPuts(reloadedAt)
          .map((r) => `${r.part}:${r.outcome}`)
          .sort((a, b) => parseInt(a) - parseInt(b)),
      ).toEqual(Array.from({ length: PARTS - BEFORE_RELOAD }, (_, i) => `${BEFORE_RELOAD + i + 1}:200`));

      // Progress after the reload starts from the parts stored before it and rises to 100 %.
      const seen = (await page.evaluate(() => (window as any).progressSeen)) as number[];
      const rising = seen.filter((v) => v > 0);
      expect(rising[0]).toBeGreaterThanOrEqual(stored);
      expect(rising).toEqual([...rising].sort((a, b) => a - b));
      expect(seen.at(-1)).toBe(1);

      // One video, complete, and storage holds the file byte for byte.
      const videoId = asked!.path.split('/')[3]!;
      const video = (await (
        await fetch(`${server.url}/api/manage/videos/${videoId}`, {
          headers: { authorization: `Bearer ${server.serviceApiKey}` },
        })
      ).json()) as Record<string, unknown>;
      expect(video).toMatchObject({ owner_id: 'rosa', upload_status: 'complete', size_bytes: size });
      const { body } = await server.storage.getObject(`videos/rosa/${videoId}.mp4`);
      const hash = createHash('sha256');
      for await (const chunk of body) hash.update(chunk as Buffer);
      expect(hash.digest('hex')).toBe(sha256);
      expect(
        await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('notetaker-upload:'))),
      ).toEqual([]);
      expect(errors).toEqual([]);
      await page.close();
    },
    120_000 + SIZE / 5_000,
  );
});
