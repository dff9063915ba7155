import { Hono } from 'hono';

import type { Db } from '../../db/create-database.js';
import {
  changeEndpoint,
  createEndpoint,
  getEndpoint,
  listEndpointsJson,
  removeEndpoint,
  rotateEndpointSecret,
} from '../../webhooks/endpoints/endpoints-service.js';
import {
  WebhookEndpoint,
  WebhookEndpointBody,
  WebhookEndpointCreated,
  WebhookEndpointList,
  WebhookEndpointPatch,
  WebhookSecretRotated,
} from '../api-schemas.js';
import { requireServiceKey } from '../auth-middleware.js';
import { describe } from '../openapi.js';
import { parseJsonBody } from '../request-helpers.js';

const tags = ['webhooks'];
const idParameter = [{ name: 'id', in: 'path' as const, required: true, description: "The endpoint's id" }];

/**
 * Webhook endpoints, under `/api/manage/webhooks`, with the service API key: register receivers, each with a secret
 * of its own and an event filter, besides the environment's `WEBHOOK_URL` (docs/webhooks.md).
 */
export function createWebhookRoutes(deps: { db: Db; serviceApiKey: string }) {
  const app = new Hono();
  app.use('*', requireServiceKey(deps.serviceApiKey));

  app.post(
    '/',
    describe({
      summary: 'Register a webhook endpoint',
      description:
        "Events are POSTed to `url` signed with the endpoint's own secret (Standard Webhooks: `webhook-id`, " +
        '`webhook-timestamp`, `webhook-signature`). The secret is in this answer only.',
      tags,
      security: 'service',
      body: WebhookEndpointBody,
      responses: {
        201: { description: 'Registered, with its secret (shown once)', schema: WebhookEndpointCreated },
      },
      errors: [400, 401, 409],
    }),
    async (c) => {
      const body = await parseJsonBody(c, WebhookEndpointBody);
      const { endpoint, secret } = await createEndpoint(deps.db, body);
      c.header('Cache-Control', 'no-store');
      return c.json({ ...endpoint, secret }, 201);
    },
  );

  app.get(
    '/',
    describe({
      summary: 'List the webhook endpoints (oldest first; without secrets)',
      tags,
      security: 'service',
      responses: { 200: { description: 'Every registered endpoint', schema: WebhookEndpointList } },
      errors: [401],
    }),
    async (c) => c.json({ webhooks: await listEndpointsJson(deps.db) }),
  );

  app.get(
    '/:id',
    describe({
      summary: 'Get a webhook endpoint (without its secret)',
      tags,
      security: 'service',
      parameters: idParameter,
      responses: { 200: { description: 'The endpoint', schema: WebhookEndpoint } },
      errors: [401, 404],
    }),
    async (c) => c.json(await getEndpoint(deps.db, c.req.param('id'))),
  );

  app.patch(
    '/:id',
    describe({
      summary: "Change a webhook endpoint's URL, event filter, description or state",
      description:
        'Only the fields sent change. `enabled: false` stops deliveries at once: the pending ones are given up, ' +
        'not sent later.',
      tags,
      security: 'service',
      parameters: idParameter,
      body: WebhookEndpointPatch,
      responses: { 200: { description: 'The endpoint as changed', schema: WebhookEndpoint } },
      errors: [400, 401, 404],
    }),
    async (c) => {
      const body = await parseJsonBody(c, WebhookEndpointPatch);
      return c.json(await changeEndpoint(deps.db, c.req.param('id'), body));
    },
  );

  app.delete(
    '/:id',
    describe({
      summary: 'Delete a webhook endpoint (its pending deliveries are never sent)',
      tags,
      security: 'service',
      parameters: idParameter,
      responses: { 204: { description: 'Deleted' } },
      errors: [401, 404],
    }),
    async (c) => {
      await removeEndpoint(deps.db, c.req.param('id'));
      return c.body(null, 204);
    },
  );

  app.post(
    '/:id/secret/rotate',
    describe({
      summary: "Rotate a webhook endpoint's secret",
      description:
        'Answers the new secret (once). For 24 hours deliveries carry two signatures, one with each secret, so the ' +
        'receiver can switch at its pace.',
      tags,
      security: 'service',
      parameters: idParameter,
      responses: { 200: { description: 'The new secret', schema: WebhookSecretRotated } },
      errors: [401, 404],
    }),
    async (c) => {
      const rotated = await rotateEndpointSecret(deps.db, c.req.param('id'));
      c.header('Cache-Control', 'no-store');
      return c.json({
        ...rotated.endpoint,
        secret: rotated.secret,
        previous_secret_expires_at: rotated.previousSecretExpiresAt,
      });
    },
  );

  return app;
}
