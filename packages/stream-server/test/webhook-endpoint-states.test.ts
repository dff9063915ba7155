import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDatabase, type Database } from '../src/db/create-database.js';
import { createWebhookDeliveryJobs } from '../src/webhooks/delivery/webhook-delivery-handler.js';
import {
  changeEndpoint,
  createEndpoint,
  removeEndpoint,
  rotateEndpointSecret,
} from '../src/webhooks/endpoints/endpoints-service.js';
import { WebhookEventType } from '../src/webhooks/events/event-types.js';
import { createWebhookEvents } from '../src/webhooks/events/publish-event.js';
import { createTestDatabase, seedEmbeddedDatabase } from './helpers/test-server.js';

/**
 * What an endpoint's state does to its deliveries, on both databases, with no worker running so each step is seen:
 * disabling gives up what is pending, deleting removes it, a rotation signs with both secrets.
 */
describe.each(['pglite', 'postgres'] as const)('webhook endpoint states (%s)', (kind) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let receiver: http.Server;
  let url: string;
  const received: Array<{ body: string; headers: Record<string, string> }> = [];
  const events = createWebhookEvents();
  const ctx = () => ({ signal: new AbortController().signal, log: pino({ level: 'silent' }) });
  const pendingOf = (endpointId: string) =>
    database.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).execute();

  beforeAll(async () => {
    if (kind === 'pglite') {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-hooks-'));
      await seedEmbeddedDatabase(dir);
      database = await createDatabase({ kind: 'pglite', dataDir: path.join(dir, 'pglite') });
      cleanup = () => fs.rm(dir, { recursive: true, force: true });
    } else {
      const created = await createTestDatabase();
      database = await createDatabase({ kind: 'postgres', url: created.url });
      cleanup = created.drop;
    }
    await database.migrate();
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({
          body,
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });

  afterAll(async () => {
    await database?.close();
    await cleanup?.();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('gives up the pending deliveries of a disabled endpoint, and sends none after it is enabled again', async () => {
    const { endpoint } = await createEndpoint(database.db, { url });
    expect(await events.publish(database.db, WebhookEventType.VideoCreated, { video: { id: 'v1' } })).toBe(1);
    await changeEndpoint(database.db, endpoint.id, { enabled: false });
    const [row] = await pendingOf(endpoint.id);
    expect(row).toMatchObject({ delivered_at: null, last_error: 'not sent: the endpoint was disabled' });
    expect(row!.failed_at).not.toBeNull();
    // While disabled it gets no new deliveries; enabled again, what was given up stays given up.
    expect(await events.publish(database.db, WebhookEventType.VideoDeleted, { video: { id: 'v1' } })).toBe(0);
    await changeEndpoint(database.db, endpoint.id, { enabled: true });
    const jobs = createWebhookDeliveryJobs({ db: database.db, maxAttempts: 3 });
    expect(await jobs.source.claim('worker#1', 60)).toBeUndefined();
    await removeEndpoint(database.db, endpoint.id);
  });

  it("deletes a deleted endpoint's pending deliveries with it", async () => {
    const { endpoint } = await createEndpoint(database.db, { url, events: ['video.deleted'] });
    expect(await events.publish(database.db, WebhookEventType.VideoCreated, { video: { id: 'v2' } })).toBe(0);
    expect(await events.publish(database.db, WebhookEventType.VideoDeleted, { video: { id: 'v2' } })).toBe(1);
    expect(await pendingOf(endpoint.id)).toHaveLength(1);
    await removeEndpoint(database.db, endpoint.id);
    expect(await pendingOf(endpoint.id)).toEqual([]);
    const jobs = createWebhookDeliveryJobs({ db: database.db, maxAttempts: 3 });
    expect(await jobs.source.claim('worker#2', 60)).toBeUndefined();
  });

  it('signs with the old and the new secret after a rotation, so a receiver holding either verifies', async () => {
    received.length = 0;
    const { endpoint, secret: oldSecret } = await createEndpoint(database.db, { url });
    const { secret: newSecret } = await rotateEndpointSecret(database.db, endpoint.id);
    await events.publish(database.db, WebhookEventType.HlsReady, { video: { id: 'v3' } });
    const jobs = createWebhookDeliveryJobs({ db: database.db, maxAttempts: 3 });
    const claim = await jobs.source.claim('worker#3', 60);
    await jobs.handler.run(claim!, ctx());
    expect(received).toHaveLength(1);
    const [delivery] = received;
    expect(delivery!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [newSecret, oldSecret]) {
      expect(new Webhook(secret).verify(delivery!.body, delivery!.headers)).toMatchObject({
        type: 'video.hls.ready',
      });
    }
    await removeEndpoint(database.db, endpoint.id);
  });
});
