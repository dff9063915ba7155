import { createHmac } from 'node:crypto';

import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';

import { createManagementClient, verifyWebhook, WebhookVerificationError } from '../src/server.js';
import { BASE_URL, useMockServer } from './mock-server.js';

const { server, requests } = useMockServer();
const API_KEY = 'service-key';
const HOOKS = `${BASE_URL}/api/manage/webhooks`;
const ENDPOINT = {
  id: '7d1c0e2a-1b2c-4d3e-8f90-123456789abc',
  url: 'https://app.test/hooks',
  description: null,
  events: ['video.hls.ready'],
  enabled: true,
  created_at: '2030-01-01T00:00:00.000Z',
  updated_at: '2030-01-01T00:00:00.000Z',
};
const manage = () => createManagementClient({ baseUrl: BASE_URL, apiKey: API_KEY });

describe('webhook endpoint calls', () => {
  it('create, list, get, update, rotate and delete go to /api/manage/webhooks with the service key', async () => {
    server.use(
      http.post(HOOKS, () => HttpResponse.json({ ...ENDPOINT, secret: 'whsec_c2VjcmV0' }, { status: 201 })),
      http.get(HOOKS, () => HttpResponse.json({ webhooks: [ENDPOINT] })),
      http.get(`${HOOKS}/:id`, () => HttpResponse.json(ENDPOINT)),
      http.patch(`${HOOKS}/:id`, () => HttpResponse.json({ ...ENDPOINT, enabled: false })),
      http.post(`${HOOKS}/:id/secret/rotate`, () =>
        HttpResponse.json({
          ...ENDPOINT,
          secret: 'whsec_bmV3',
          previous_secret_expires_at: '2030-01-02T00:00:00.000Z',
        }),
      ),
      http.delete(`${HOOKS}/:id`, () => new HttpResponse(null, { status: 204 })),
    );
    const client = manage();
    const input = { url: ENDPOINT.url, events: ['video.hls.ready' as const] };
    await expect(client.createWebhook(input)).resolves.toMatchObject({ secret: 'whsec_c2VjcmV0' });
    await expect(client.listWebhooks()).resolves.toEqual([ENDPOINT]);
    await expect(client.getWebhook(ENDPOINT.id)).resolves.toEqual(ENDPOINT);
    await expect(client.updateWebhook(ENDPOINT.id, { enabled: false })).resolves.toMatchObject({
      enabled: false,
    });
    await expect(client.rotateWebhookSecret(ENDPOINT.id)).resolves.toMatchObject({ secret: 'whsec_bmV3' });
    await expect(client.deleteWebhook(ENDPOINT.id)).resolves.toBeUndefined();
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /api/manage/webhooks',
      'GET /api/manage/webhooks',
      `GET /api/manage/webhooks/${ENDPOINT.id}`,
      `PATCH /api/manage/webhooks/${ENDPOINT.id}`,
      `POST /api/manage/webhooks/${ENDPOINT.id}/secret/rotate`,
      `DELETE /api/manage/webhooks/${ENDPOINT.id}`,
    ]);
    expect(requests.every((r) => r.headers.get('authorization') === `Bearer ${API_KEY}`)).toBe(true);
    expect(await requests[0]!.clone().json()).toEqual(input);
    expect(await requests[3]!.clone().json()).toEqual({ enabled: false });
  });
});

describe('verifyWebhook', () => {
  // The test vector of the Standard Webhooks specification.
  const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const BODY = '{"test": 2432232314}';
  const HEADERS = {
    'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    'webhook-timestamp': '1614265330',
    'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
  };
  const AT = 1614265330_000;

  it("accepts the specification's test vector and returns the parsed event", async () => {
    await expect(verifyWebhook(SECRET, BODY, HEADERS, { now: AT })).resolves.toEqual({ test: 2432232314 });
    // Headers as a Headers object, any case, and one good signature among others (a rotation).
    const headers = new Headers({
      ...HEADERS,
      'Webhook-Signature': `v1,${'A'.repeat(44)} v2,x ${HEADERS['webhook-signature']}`,
    });
    await expect(verifyWebhook(SECRET, BODY, headers, { now: AT + 60_000 })).resolves.toEqual({
      test: 2432232314,
    });
  });

  it('refuses a changed body, another secret, an old timestamp and missing headers', async () => {
    const refused = async (...args: Parameters<typeof verifyWebhook>) =>
      expect(verifyWebhook(...args)).rejects.toBeInstanceOf(WebhookVerificationError);
    await refused(SECRET, BODY.replace('2432232314', '2432232315'), HEADERS, { now: AT });
    await refused('whsec_' + Buffer.from('another key of 24 bytes!').toString('base64'), BODY, HEADERS, {
      now: AT,
    });
    await refused(SECRET, BODY, HEADERS, { now: AT + 301_000 });
    await refused(SECRET, BODY, { ...HEADERS, 'webhook-id': 'msg_other' }, { now: AT });
    await refused(SECRET, BODY, { 'webhook-id': HEADERS['webhook-id'] }, { now: AT });
  });

  it('takes a secret without whsec_ as its UTF-8 bytes (the environment endpoint of WEBHOOK_SECRET)', async () => {
    const secret = 'environment-webhook-secret-0123456789';
    const body = '{"id":"e1","type":"video.deleted"}';
    const timestamp = Math.floor(Date.now() / 1000);
    const mac = createHmac('sha256', secret).update(`e1.${timestamp}.${body}`).digest('base64');
    const headers = {
      'webhook-id': 'e1',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': `v1,${mac}`,
    };
    await expect(verifyWebhook(secret, body, headers)).resolves.toMatchObject({ type: 'video.deleted' });
  });
});
