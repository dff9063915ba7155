import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifyLegacyWebhook as verifyWebhook } from '../src/webhooks/signatures/legacy-signature.js';
import { makeTestMedia } from './helpers/media.js';
import { waitFor } from './helpers/processes.js';
import { api, startTestServer, waitForStream, type TestServer } from './helpers/test-server.js';

const SECRET = 'webhook-secret-for-tests-0123456789';

interface Received {
  body: string;
  signature: string | undefined;
  standardSignature: string | undefined;
  event: string | undefined;
  answered: number;
}

/** A host app's webhook endpoint that refuses the first `failFirst` deliveries of each event id. */
async function startReceiver(failFirst: number) {
  const received: Received[] = [];
  const attemptsById = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const id = (JSON.parse(body) as { id: string }).id;
      const attempt = (attemptsById.get(id) ?? 0) + 1;
      attemptsById.set(id, attempt);
      const status = attempt <= failFirst ? 500 : 200;
      received.push({
        body,
        signature: req.headers['notetaker-signature'] as string | undefined,
        standardSignature: req.headers['webhook-signature'] as string | undefined,
        event: req.headers['notetaker-event'] as string | undefined,
        answered: status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('webhooks and metrics', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let mediaDir: string;
  let alice: ReturnType<typeof api>;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    receiver = await startReceiver(2);
    // The deprecated signature, kept behind WEBHOOK_SIGNATURE_FORMAT for one release; the generation events only.
    server = await startTestServer('embedded', {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_SIGNATURE_FORMAT: 'legacy',
      WEBHOOK_EVENTS: 'video.hls.ready,video.hls.failed',
    });
    alice = api(server, await server.mintUserToken('alice'));
  });

  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('delivers video.hls.ready, with the legacy signature, to a receiver that fails twice first', async () => {
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 6 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await alice(`/api/videos/${id}/stream`);
    expect((await waitForStream(alice, id)).body['status']).toBe('ready');

    const delivered = await waitFor('the third delivery attempt', async () => {
      const attempts = receiver.received.filter((r) => JSON.parse(r.body).data.video.id === id);
      return attempts.length >= 3 ? attempts : undefined;
    });
    expect(delivered.map((r) => r.answered)).toEqual([500, 500, 200]);
    for (const attempt of delivered) {
      expect(attempt.event).toBe('video.hls.ready');
      expect(attempt.standardSignature).toBeUndefined();
      expect(verifyWebhook(SECRET, attempt.body, attempt.signature)).toBe(true);
      expect(verifyWebhook('another-secret-0123456789', attempt.body, attempt.signature)).toBe(false);
      expect(verifyWebhook(SECRET, attempt.body.replace('ready', 'failed'), attempt.signature)).toBe(false);
    }
    const payload = JSON.parse(delivered[2]!.body);
    expect(payload).toMatchObject({ type: 'video.hls.ready', data: { video: { id, hls_status: 'ready' } } });
    // Every attempt carries the same event id, so a receiver can deduplicate.
    expect(new Set(delivered.map((r) => JSON.parse(r.body).id)).size).toBe(1);
  });

  it('delivers video.hls.failed with the readable message for a corrupt upload', async () => {
    const file = await makeTestMedia(mediaDir, 'random-bytes', { seconds: 6 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await alice(`/api/videos/${id}/stream`);
    expect((await waitForStream(alice, id)).body['status']).toBe('failed');
    const delivery = await waitFor('the failed event', async () =>
      receiver.received.find((r) => r.answered === 200 && JSON.parse(r.body).data.video.id === id),
    );
    expect(delivery.event).toBe('video.hls.failed');
    expect(JSON.parse(delivery.body).data.video.hls_error_message).toEqual(expect.any(String));
  });

  it('counts successes, failures, durations, tasks and requests in /metrics', async () => {
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    let text = '';
    // The ready video's poster and storyboard come from a task that may still be running.
    for (
      let i = 0;
      i < 100 && !(value(/^notetaker_video_tasks_total\{kind="thumbnails",outcome="done"\} (\d+)/m) >= 1);
      i += 1
    ) {
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      text = await response.text();
      if (i > 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(value(/^notetaker_video_tasks_total\{kind="thumbnails",outcome="done"\} (\d+)/m)).toBe(1);
    expect(value(/^notetaker_generation_started_total (\d+)/m)).toBe(2);
    expect(value(/^notetaker_generation_succeeded_total\{mode="copy"\} (\d+)/m)).toBe(1);
    expect(value(/^notetaker_generation_failed_total\{reason="invalid_input"\} (\d+)/m)).toBe(1);
    expect(value(/^notetaker_generation_duration_seconds_count\{mode="copy"\} (\d+)/m)).toBe(1);
    expect(value(/^notetaker_generation_queue_depth\{state="waiting"\} (\d+)/m)).toBe(0);
    expect(
      value(/^notetaker_webhook_deliveries_total\{event="video.hls.ready",outcome="delivered"\} (\d+)/m),
    ).toBe(1);
    expect(text).toMatch(
      /^notetaker_http_requests_total\{method="GET",route="\/api\/videos\/:id\/stream",status="202"\} \d+/m,
    );
    // Raw paths (with ids) never become labels.
    expect(text).not.toMatch(/route="\/api\/videos\/[0-9a-f]{8}-/);
  });
});

describe('webhook redirects', () => {
  let server: TestServer;
  let mediaDir: string;
  const closers: Array<() => Promise<void>> = [];

  const listen = async (handler: http.RequestListener) => {
    const s = http.createServer(handler);
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => s.close(() => resolve())));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };

  afterAll(async () => {
    await server?.close();
    for (const close of closers) await close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('never follows a 302 or a 307: the other port gets nothing and the event is not marked delivered', async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    // Where a redirect would lead: it must never see a request, let alone the signed body.
    const elsewhere: string[] = [];
    const target = await listen((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        elsewhere.push(`${req.method} ${body}`);
        res.writeHead(200).end('ok');
      });
    });
    // The receiver answers the first attempt with 302, the second with 307.
    const answered: number[] = [];
    const receiverUrl = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = answered.length === 0 ? 302 : 307;
        answered.push(status);
        res.writeHead(status, { location: `${target}/stolen` }).end();
      });
    });
    server = await startTestServer('embedded', {
      WEBHOOK_URL: `${receiverUrl}/hooks`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_EVENTS: 'video.hls.ready',
      WEBHOOK_MAX_ATTEMPTS: '2',
    });
    const alice = api(server, await server.mintUserToken('alice'));
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 2 });
    const { id } = await server.importVideo(file, { ownerId: 'alice' });
    await alice(`/api/videos/${id}/stream`);
    expect((await waitForStream(alice, id)).body['status']).toBe('ready');

    const row = await waitFor(
      'the delivery to be settled',
      async () => {
        const delivery = await server.database.db
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where('event', '=', 'video.hls.ready')
          .executeTakeFirst();
        return delivery?.failed_at || delivery?.delivered_at ? delivery : undefined;
      },
      20_000,
    );
    expect(answered).toEqual([302, 307]);
    expect(row.delivered_at).toBeNull();
    expect(row.attempts).toBe(2);
    expect(row.last_error).toMatch(/HTTP 307.*redirect/);
    expect(elsewhere).toEqual([]);
  });
});
