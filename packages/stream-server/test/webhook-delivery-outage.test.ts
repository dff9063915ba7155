import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDatabase, type Database } from '../src/db/create-database.js';
import { isDatabaseUnavailable } from '../src/db/database-errors.js';
import { createWebhookDeliveryJobs } from '../src/webhooks/delivery/webhook-delivery-handler.js';
import { createEndpoint } from '../src/webhooks/endpoints/endpoints-service.js';
import { WebhookEventType } from '../src/webhooks/events/event-types.js';
import { createWebhookEvents } from '../src/webhooks/events/publish-event.js';
import { waitFor } from './helpers/processes.js';
import { startCuttableProxy, type CuttableProxy } from './helpers/tcp-proxy.js';
import { createTestDatabase } from './helpers/test-server.js';

/**
 * PostgreSQL taken away around a webhook delivery (decision 0024): a delivery the database kept from being attempted
 * uses up no attempt, however often it happens; one whose receiver answered while the database was away is recorded
 * once it is back, and not sent again.
 */
describe('webhook deliveries during a database outage', () => {
  let testDatabase: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: CuttableProxy;
  let database: Database;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: string[] = [];
  const ctx = () => ({ signal: new AbortController().signal, log: pino({ level: 'silent' }) });
  const row = (eventId: string) =>
    database.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('event_id', '=', eventId)
      .executeTakeFirstOrThrow();
  /** Reads once the pool has a working connection again. */
  const rowWhenBack = (eventId: string) =>
    waitFor('the database to answer again', () => row(eventId).catch(() => undefined), 30_000);

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    const url = new URL(testDatabase.url);
    proxy = await startCuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    database = await createDatabase({ kind: 'postgres', url: url.toString() }, { timeoutSeconds: 2 });
    await database.migrate();
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(req.headers['webhook-id'] as string);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    await createEndpoint(database.db, { url: receiverUrl });
  });

  afterAll(async () => {
    await proxy?.restore().catch(() => {});
    await database?.close();
    await proxy?.close();
    await testDatabase?.drop();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  const publish = async () => {
    const events = createWebhookEvents();
    await events.publish(database.db, WebhookEventType.VideoCreated, { video: { id: 'v1' } });
    const rows = await database.db
      .selectFrom('webhook_deliveries')
      .select('event_id')
      .orderBy('created_at', 'desc')
      .execute();
    return rows[0]!.event_id;
  };

  it('never counts an attempt the database kept from being made, even past WEBHOOK_MAX_ATTEMPTS', async () => {
    const jobs = createWebhookDeliveryJobs({ db: database.db, maxAttempts: 2 });
    const eventId = await publish();
    for (let outage = 1; outage <= 3; outage += 1) {
      // Due now again (the handed-back delivery waits 5 s otherwise).
      await database.db.updateTable('webhook_deliveries').set({ next_attempt_at: new Date() }).execute();
      const claim = await jobs.source.claim(`worker#${outage}`, 60);
      expect(claim?.delivery.event_id).toBe(eventId);
      await proxy.cut();
      const failure = await jobs.handler.run(claim!, ctx()).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isDatabaseUnavailable(failure), String(failure)).toBe(true);
      await proxy.restore();
      // What the job runner does with a failed attempt: the handler decides (here, the database answers again).
      await waitFor('the delivery to be handed back', async () => {
        await jobs.handler.onFailure(claim!, failure, ctx());
        const current = await row(eventId).catch(() => undefined);
        return current && current.lease_owner === null ? current : undefined;
      });
      const current = await row(eventId);
      expect(current).toMatchObject({ attempts: 0, claims: 0, failed_at: null, delivered_at: null });
      expect(new Date(current.next_attempt_at).getTime()).toBeGreaterThan(Date.now());
    }
    expect(received).toEqual([]);

    // Once the database stays up, the delivery goes out, as its first attempt.
    await database.db.updateTable('webhook_deliveries').set({ next_attempt_at: new Date() }).execute();
    const claim = await jobs.source.claim('worker#4', 60);
    await jobs.handler.run(claim!, ctx());
    expect(await row(eventId)).toMatchObject({ attempts: 1, last_error: null, failed_at: null });
    expect((await row(eventId)).delivered_at).not.toBeNull();
    expect(received).toEqual([eventId]);
  });

  it('records a delivery the receiver took while the database was away once it is back, without sending it again', async () => {
    received.length = 0;
    // The receiver answers, then the database goes away before the outcome is written, for a second and a half.
    const fetchThenCut: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      await proxy.cut();
      setTimeout(() => void proxy.restore(), 1500);
      return response;
    };
    const jobs = createWebhookDeliveryJobs({ db: database.db, maxAttempts: 2, fetch: fetchThenCut });
    const eventId = await publish();
    const claim = await jobs.source.claim('worker#5', 60);
    await jobs.handler.run(claim!, ctx());
    const current = await rowWhenBack(eventId);
    expect(current).toMatchObject({ attempts: 1, claims: 1, failed_at: null });
    expect(current.delivered_at).not.toBeNull();
    expect(received).toEqual([eventId]);
  });
});
