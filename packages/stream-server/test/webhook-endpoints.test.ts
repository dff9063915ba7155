import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { verifyWebhook } from '@notetaker/client-sdk/server';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { verifyLegacyWebhook } from '../src/webhooks/signatures/legacy-signature.js';
import { makeTestMedia } from './helpers/media.js';
import { waitFor } from './helpers/processes.js';
import { api, startTestServer, VARIANTS, type TestServer } from './helpers/test-server.js';

/** The environment's endpoint keeps a secret of its own form (not `whsec_`): its raw bytes are the key. */
const ENV_SECRET = 'environment-webhook-secret-0123456789';

interface Delivery {
  /** When it arrived, by the test's clock (ms). */
  at: number;
  body: string;
  headers: Record<string, string>;
  answered: number;
  event: { id: string; type: string; data: Record<string, any> };
}

/** A host app's receiver: records every request; `answer` picks the status of each (default 200). */
async function startReceiver(answer: (attempt: number) => number = () => 200) {
  const deliveries: Delivery[] = [];
  const attemptsById = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const event = JSON.parse(body) as Delivery['event'];
      const attempt = (attemptsById.get(event.id) ?? 0) + 1;
      attemptsById.set(event.id, attempt);
      const status = answer(attempt);
      deliveries.push({
        at: Date.now(),
        body,
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([name, value]) => [name, String(value)]),
        ),
        answered: status,
        event,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Verifies a delivery with the off-the-shelf Standard Webhooks verifier; throws when it does not verify. */
function verifyStandard(secret: string | Uint8Array, delivery: Delivery): unknown {
  const verifier =
    typeof secret === 'string' && secret.startsWith('whsec_')
      ? new Webhook(secret)
      : new Webhook(secret, { format: 'raw' });
  return verifier.verify(delivery.body, delivery.headers);
}

describe.each(VARIANTS)('webhook endpoints (%s)', (variant) => {
  let server: TestServer;
  let mediaDir: string;
  let manage: ReturnType<typeof api>;
  const receivers: Record<'all' | 'filtered' | 'flaky' | 'deleted' | 'disabled' | 'environment', Receiver> =
    {} as never;
  const secrets: Record<'all' | 'filtered' | 'flaky', string> = {} as never;
  /** The videos whose events are followed, by what happens to them. */
  let played: string;
  let corrupt: string;

  const json = async (route: string, init: RequestInit = {}) => {
    const response = await manage(route, init);
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };
  const register = async (receiver: Receiver, extra: Record<string, unknown> = {}) => {
    const created = await json('/api/manage/webhooks', {
      method: 'POST',
      body: JSON.stringify({ url: receiver.url, ...extra }),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as { id: string; secret: string };
  };
  const videoStatus = async (id: string) => (await json(`/api/manage/videos/${id}`)).body as any;

  beforeAll(async () => {
    mediaDir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-media-'));
    receivers.all = await startReceiver();
    receivers.filtered = await startReceiver();
    // Refuses the first two attempts of every event.
    receivers.flaky = await startReceiver((attempt) => (attempt <= 2 ? 500 : 200));
    receivers.deleted = await startReceiver();
    receivers.disabled = await startReceiver();
    receivers.environment = await startReceiver();
    server = await startTestServer(variant, {
      RENDITIONS: '180',
      WEBHOOK_URL: receivers.environment.url,
      WEBHOOK_SECRET: ENV_SECRET,
      WEBHOOK_EVENTS: 'video.deleted',
      // Both signatures on every delivery: the standard one and, for one more release, the legacy one.
      WEBHOOK_SIGNATURE_FORMAT: 'both',
    });
    manage = api(server, server.serviceApiKey);
  });

  afterAll(async () => {
    await server?.close();
    for (const receiver of Object.values(receivers)) await receiver.close();
    await fs.rm(mediaDir, { recursive: true, force: true });
  });

  it('registers, lists, changes, rotates and deletes endpoints, answering bad input with 4xx JSON errors', async () => {
    const created = await json('/api/manage/webhooks', {
      method: 'POST',
      body: JSON.stringify({
        url: 'https://app.example.com/hooks',
        events: ['video.deleted', 'video.created', 'video.created'],
        description: 'billing',
      }),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      url: 'https://app.example.com/hooks',
      // Each type once, in the catalogue's order.
      events: ['video.created', 'video.deleted'],
      description: 'billing',
      enabled: true,
    });
    const secret = created.body!['secret'] as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    const id = created.body!['id'] as string;

    // The secret is shown once: never in a list or a read.
    const listed = await json('/api/manage/webhooks');
    expect(listed.status).toBe(200);
    expect(listed.body!['webhooks'].map((w: { id: string }) => w.id)).toContain(id);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    const read = await json(`/api/manage/webhooks/${id}`);
    expect(read.body).toMatchObject({ id, events: ['video.created', 'video.deleted'] });
    expect(read.body).not.toHaveProperty('secret');

    const patched = await json(`/api/manage/webhooks/${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ events: null, enabled: false, description: null }),
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id, events: null, enabled: false, description: null });

    const rotated = await json(`/api/manage/webhooks/${id}/secret/rotate`, { method: 'POST' });
    expect(rotated.status).toBe(200);
    expect(rotated.body!['secret']).toMatch(/^whsec_/);
    expect(rotated.body!['secret']).not.toBe(secret);
    expect(Date.parse(rotated.body!['previous_secret_expires_at'])).toBeGreaterThan(
      Date.now() + 23 * 3600_000,
    );

    const refusals: Array<[string, RequestInit, number, string]> = [
      [
        '/api/manage/webhooks',
        { method: 'POST', body: JSON.stringify({ url: 'ftp://x.example/h' }) },
        400,
        'http',
      ],
      [
        '/api/manage/webhooks',
        { method: 'POST', body: JSON.stringify({ url: 'not a url' }) },
        400,
        'absolute',
      ],
      [
        '/api/manage/webhooks',
        { method: 'POST', body: JSON.stringify({ url: 'https://u:p@x.example/h' }) },
        400,
        'password',
      ],
      [
        '/api/manage/webhooks',
        { method: 'POST', body: JSON.stringify({ url: 'https://x.example/h', events: ['video.exploded'] }) },
        400,
        'video.exploded',
      ],
      [
        '/api/manage/webhooks',
        { method: 'POST', body: JSON.stringify({ url: 'https://x.example/h', events: [] }) },
        400,
        'at least one',
      ],
      [
        '/api/manage/webhooks',
        { method: 'POST', body: JSON.stringify({ url: 'https://x.example/h', filter_types: [] }) },
        400,
        'filter_types',
      ],
      ['/api/manage/webhooks', { method: 'POST', body: '{' }, 400, 'JSON'],
      [`/api/manage/webhooks/${id}`, { method: 'PATCH', body: '{}' }, 400, 'at least one'],
      [
        `/api/manage/webhooks/${id}`,
        { method: 'PATCH', body: JSON.stringify({ enabled: 'no' }) },
        400,
        'enabled',
      ],
      ['/api/manage/webhooks/not-an-id', {}, 404, 'webhook endpoint'],
      [
        '/api/manage/webhooks/00000000-0000-4000-8000-000000000000',
        { method: 'PATCH', body: JSON.stringify({ enabled: true }) },
        404,
        'webhook endpoint',
      ],
      [
        '/api/manage/webhooks/00000000-0000-4000-8000-000000000000/secret/rotate',
        { method: 'POST' },
        404,
        '',
      ],
    ];
    for (const [route, init, status, words] of refusals) {
      const answer = await json(route, init);
      expect(answer.status, `${init.method ?? 'GET'} ${route} ${String(init.body)}`).toBe(status);
      expect(answer.body!['error']['message']).toContain(words);
    }
    // Without the service key: 401, like every management route.
    expect((await fetch(`${server.url}/api/manage/webhooks`)).status).toBe(401);

    expect((await json(`/api/manage/webhooks/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await json(`/api/manage/webhooks/${id}`)).status).toBe(404);
    expect((await json(`/api/manage/webhooks/${id}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('queues every event of a video for each subscribed endpoint as its change happens', async () => {
    secrets.all = (await register(receivers.all, { description: 'everything' })).secret;
    secrets.filtered = (
      await register(receivers.filtered, { events: ['video.hls.ready', 'video.deleted'] })
    ).secret;
    secrets.flaky = (await register(receivers.flaky, { events: ['video.created'] })).secret;
    const gone = await register(receivers.deleted);
    expect((await json(`/api/manage/webhooks/${gone.id}`, { method: 'DELETE' })).status).toBe(204);
    const off = await register(receivers.disabled);
    expect(
      (
        await json(`/api/manage/webhooks/${off.id}`, {
          method: 'PATCH',
          body: JSON.stringify({ enabled: false }),
        })
      ).status,
    ).toBe(200);

    // Registered, uploaded and completed through the management API.
    const file = await makeTestMedia(mediaDir, 'h264-aac-faststart', { seconds: 4 });
    const bytes = await fs.readFile(file);
    const registered = await json('/api/manage/videos', {
      method: 'POST',
      body: JSON.stringify({ owner_id: 'alice', title: 'Standup', size_bytes: bytes.length }),
    });
    expect(registered.status).toBe(201);
    played = registered.body!['video']['id'];
    const upload = registered.body!['upload'];
    expect((await fetch(upload.url, { method: 'PUT', body: bytes, headers: upload.headers })).ok).toBe(true);
    expect((await json(`/api/manage/videos/${played}/upload/complete`, { method: 'POST' })).status).toBe(200);
    // Generated, then its 180p rung made after ready.
    expect([200, 202]).toContain((await json(`/api/manage/videos/${played}/hls`, { method: 'POST' })).status);
    await waitFor('the video to be ready', async () =>
      (await videoStatus(played)).hls_status === 'ready' ? true : undefined,
    );
    await waitFor('the rendition event', async () =>
      receivers.all.deliveries.find((d) => d.event.type === 'video.rendition.ready'),
    );
    // Captions and chapters set, then the video deleted.
    const captions = await manage(`/api/manage/videos/${played}/captions/en`, {
      method: 'PUT',
      headers: { 'content-type': 'text/vtt' },
      body: 'WEBVTT\n\n00:00.000 --> 00:02.000\nGood morning\n',
    });
    expect(captions.status).toBe(201);
    const chapters = await json(`/api/manage/videos/${played}/chapters`, {
      method: 'PUT',
      body: JSON.stringify({ chapters: [{ start_seconds: 0, title: 'Intro' }] }),
    });
    expect(chapters.status).toBe(200);
    expect((await json(`/api/manage/videos/${played}`, { method: 'DELETE' })).status).toBe(204);

    // An import of a file that is no video: created, completed, then failed at generation.
    const junk = await makeTestMedia(mediaDir, 'random-bytes', { seconds: 4 });
    corrupt = (await server.importVideo(junk, { ownerId: 'alice' })).id;
    await json(`/api/manage/videos/${corrupt}/hls`, { method: 'POST' });
    await waitFor('the corrupt video to fail', async () =>
      (await videoStatus(corrupt)).hls_status === 'failed' ? true : undefined,
    );

    // Every delivery settles: delivered (the flaky receiver after its retries), none abandoned.
    const rows = await waitFor(
      'every delivery to be delivered',
      async () => {
        const all = await server.database.db.selectFrom('webhook_deliveries').selectAll().execute();
        return all.length > 0 && all.every((row) => row.delivered_at !== null) ? all : undefined;
      },
      60_000,
    );
    expect(rows.filter((row) => row.failed_at !== null)).toEqual([]);
    // Nothing was queued for the deleted or the disabled endpoint.
    expect(rows.filter((row) => row.endpoint_id === gone.id || row.endpoint_id === off.id)).toEqual([]);
  });

  it('delivers each event once to the endpoint that takes every event, signed with its own secret', async () => {
    const { deliveries } = receivers.all;
    const typesOf = (videoId: string) =>
      deliveries.filter((d) => d.event.data['video']['id'] === videoId).map((d) => d.event.type);
    expect(typesOf(played)).toEqual([
      'video.created',
      'video.upload.completed',
      'video.hls.ready',
      'video.rendition.ready',
      'video.captions.updated',
      'video.chapters.updated',
      'video.deleted',
    ]);
    expect(typesOf(corrupt)).toEqual(['video.created', 'video.upload.completed', 'video.hls.failed']);
    // Once each: every event id arrived a single time.
    expect(new Set(deliveries.map((d) => d.event.id)).size).toBe(deliveries.length);
    for (const delivery of deliveries) {
      expect(delivery.headers['webhook-id']).toBe(delivery.event.id);
      expect(delivery.headers['notetaker-event']).toBe(delivery.event.type);
      expect(verifyStandard(secrets.all, delivery)).toEqual(delivery.event);
      // The SDK's own verifier agrees.
      await expect(verifyWebhook(secrets.all, delivery.body, delivery.headers)).resolves.toEqual(
        delivery.event,
      );
      // Another endpoint's secret does not verify it, nor does a changed body.
      expect(() => verifyStandard(secrets.filtered, delivery)).toThrow(/signature/);
      expect(() =>
        verifyStandard(secrets.all, { ...delivery, body: delivery.body.replace('alice', 'mallory') }),
      ).toThrow(/signature/);
    }
    const find = (type: string) => deliveries.find((d) => d.event.type === type)!.event.data;
    expect(find('video.upload.completed')['video']).toMatchObject({ id: played, upload_status: 'complete' });
    expect(find('video.hls.ready')['video']).toMatchObject({ id: played, hls_status: 'ready' });
    expect(find('video.rendition.ready')['rendition']).toMatchObject({
      height: 180,
      bandwidth: expect.any(Number),
    });
    expect(find('video.captions.updated')).toMatchObject({
      change: { language: 'en', action: 'created' },
      captions: [{ language: 'en', label: 'English' }],
    });
    expect(find('video.chapters.updated')['chapters']).toMatchObject({
      chapters: [{ start_seconds: 0, title: 'Intro' }],
    });
    expect(find('video.hls.failed')['video']).toMatchObject({
      id: corrupt,
      hls_status: 'failed',
      hls_error_message: expect.any(String),
    });
  });

  it('sends an endpoint only the event types of its filter', () => {
    const { deliveries } = receivers.filtered;
    expect(deliveries.map((d) => `${d.event.type} ${d.event.data['video']['id']}`)).toEqual([
      `video.hls.ready ${played}`,
      `video.deleted ${played}`,
    ]);
    // The same event reaches each endpoint under the same id.
    const ready = receivers.all.deliveries.find((d) => d.event.type === 'video.hls.ready')!;
    expect(deliveries[0]!.event.id).toBe(ready.event.id);
    for (const delivery of deliveries)
      expect(verifyStandard(secrets.filtered, delivery)).toEqual(delivery.event);
  });

  it('retries a 500 with backoff, under the same webhook-id, until the endpoint takes it', () => {
    const { deliveries } = receivers.flaky;
    expect(new Set(deliveries.map((d) => d.event.type))).toEqual(new Set(['video.created']));
    for (const videoId of [played, corrupt]) {
      const attempts = deliveries.filter((d) => d.event.data['video']['id'] === videoId);
      expect(attempts.map((d) => d.answered)).toEqual([500, 500, 200]);
      expect(new Set(attempts.map((d) => d.headers['webhook-id'])).size).toBe(1);
      expect(new Set(attempts.map((d) => d.body)).size).toBe(1);
      // Backoff: at least a second between attempts (about 2 s, then 4 s, with jitter).
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900);
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(900);
      // Each attempt is signed afresh, with its own timestamp, and verifies.
      for (const attempt of attempts) verifyStandard(secrets.flaky, attempt);
      expect(Number(attempts[2]!.headers['webhook-timestamp'])).toBeGreaterThan(
        Number(attempts[0]!.headers['webhook-timestamp']),
      );
    }
  });

  it('sends nothing to a deleted or a disabled endpoint', () => {
    expect(receivers.deleted.deliveries).toEqual([]);
    expect(receivers.disabled.deliveries).toEqual([]);
  });

  it("keeps the environment's endpoint, with its filter and both signatures behind WEBHOOK_SIGNATURE_FORMAT", () => {
    const { deliveries } = receivers.environment;
    expect(deliveries.map((d) => `${d.event.type} ${d.event.data['video']['id']}`)).toEqual([
      `video.deleted ${played}`,
    ]);
    const [delivery] = deliveries;
    // Standard Webhooks with the raw bytes of WEBHOOK_SECRET as the key…
    expect(verifyStandard(ENV_SECRET, delivery!)).toEqual(delivery!.event);
    // …and the deprecated header, still verifiable as before.
    expect(verifyLegacyWebhook(ENV_SECRET, delivery!.body, delivery!.headers['notetaker-signature'])).toBe(
      true,
    );
    expect(
      verifyLegacyWebhook(
        'another-secret-0123456789',
        delivery!.body,
        delivery!.headers['notetaker-signature'],
      ),
    ).toBe(false);
  });
});
