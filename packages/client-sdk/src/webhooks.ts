import type { Send } from './http.js';
import type { RequestOptions, Video } from './types.js';

/** Event types a webhook endpoint can receive (docs/webhooks.md says when each is sent). */
export type WebhookEventType =
  | 'video.created'
  | 'video.upload.completed'
  | 'video.hls.ready'
  | 'video.hls.failed'
  | 'video.rendition.ready'
  | 'video.captions.updated'
  | 'video.chapters.updated'
  | 'video.deleted';

/** A delivered event: the JSON body of a webhook request. */
export interface WebhookEvent {
  /** The event's id, also the `webhook-id` header: the same across retries, so use it to handle each event once. */
  id: string;
  type: WebhookEventType | (string & {});
  created_at: string;
  /** `video` always; `rendition`, `captions` and `change`, or `chapters` for the events about them. */
  data: { video: Video } & Record<string, unknown>;
}

/** A registered webhook endpoint (its secret is answered only when created or rotated). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  /** The event types it receives; `null` for every one. */
  events: WebhookEventType[] | null;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface WebhookEndpointInput {
  /** Where events are POSTed: an absolute http(s) URL. */
  url: string;
  /** Event types to receive; omitted or `null` for every one. */
  events?: WebhookEventType[] | null;
  description?: string | null;
  /** Default `true`. */
  enabled?: boolean;
}

/** The endpoint and its signing secret (`whsec_…`): store the secret now, it is not shown again. */
export interface WebhookEndpointWithSecret extends WebhookEndpoint {
  secret: string;
}

export interface RotatedWebhookSecret extends WebhookEndpointWithSecret {
  /** Until then deliveries carry a signature with the old secret too. */
  previous_secret_expires_at: string;
}

/** The webhook endpoint calls of the management client (`/api/manage/webhooks`). */
export const webhookCalls = (send: Send) => {
  const path = (id?: string, rest = '') =>
    '/api/manage/webhooks' + (id === undefined ? '' : '/' + encodeURIComponent(id)) + rest;
  return {
    createWebhook: async (
      input: WebhookEndpointInput,
      o: RequestOptions = {},
    ): Promise<WebhookEndpointWithSecret> => (await send('POST', path(), o.signal, input)).data,
    listWebhooks: async (o: RequestOptions = {}): Promise<WebhookEndpoint[]> =>
      (await send('GET', path(), o.signal)).data.webhooks,
    getWebhook: async (id: string, o: RequestOptions = {}): Promise<WebhookEndpoint> =>
      (await send('GET', path(id), o.signal)).data,
    updateWebhook: async (
      id: string,
      changes: Partial<WebhookEndpointInput>,
      o: RequestOptions = {},
    ): Promise<WebhookEndpoint> => (await send('PATCH', path(id), o.signal, changes)).data,
    deleteWebhook: async (id: string, o: RequestOptions = {}): Promise<void> => {
      await send('DELETE', path(id), o.signal);
    },
    rotateWebhookSecret: async (id: string, o: RequestOptions = {}): Promise<RotatedWebhookSecret> =>
      (await send('POST', path(id, '/secret/rotate'), o.signal)).data,
  };
};

/** A webhook request that is not signed with the given secret, too old, or malformed. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

export interface VerifyWebhookOptions {
  /** Refuse deliveries whose `webhook-timestamp` is further than this from now (default 300 s): replays. */
  toleranceSeconds?: number;
  /** Now, in milliseconds (tests). */
  now?: number;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

const header = (headers: HeaderSource, name: string): string | undefined => {
  if (typeof (headers as Headers).get == 'function') return (headers as Headers).get(name) ?? undefined;
  for (const key in headers) {
    if (key.toLowerCase() == name) {
      const value = (headers as Record<string, string | string[] | undefined>)[key];
      return Array.isArray(value) ? value[0] : value;
    }
  }
};

const bytes = (text: string) => new TextEncoder().encode(text);

/**
 * Verifies a webhook request as the Standard Webhooks specification says (the `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers, HMAC-SHA256 with the base64 key after `whsec_`) and returns the event. Pass the
 * **raw** body, before any JSON parsing. Web Crypto only: Node 20+, Deno, Bun, edge runtimes. A `WEBHOOK_SECRET`
 * without the `whsec_` prefix (the environment's endpoint) is used as it is, its UTF-8 bytes the key.
 *
 * @example
 * import { verifyWebhook } from '@notetaker/client-sdk/server';
 * app.post('/hooks', express.text({ type: 'application/json' }), async (req, res) => {
 *   const event = await verifyWebhook(process.env.NOTETAKER_WEBHOOK_SECRET, req.body, req.headers).catch(() => null);
 *   if (!event) return res.sendStatus(400);
 *   // … handle it once per event.id …
 *   res.sendStatus(204);
 * });
 */
export const verifyWebhook = async (
  secret: string,
  body: string,
  headers: HeaderSource,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> => {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('Missing webhook-* headers.');
  const seconds = +timestamp;
  const now = (options.now ?? Date.now()) / 1000;
  if (!/^\d+$/.test(timestamp) || Math.abs(now - seconds) > (options.toleranceSeconds ?? 300)) {
    throw new WebhookVerificationError('The webhook-timestamp is too old or too new.');
  }
  const key = secret.startsWith('whsec_')
    ? Uint8Array.from(atob(secret.slice(6)), (c) => c.charCodeAt(0))
    : bytes(secret);
  const hmac = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'verify',
  ]);
  const signed = bytes(`${id}.${timestamp}.${body}`);
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',');
    if (version != 'v1' || !value) continue;
    let mac: Uint8Array<ArrayBuffer>;
    try {
      mac = Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
    } catch {
      continue;
    }
    // crypto.subtle.verify compares in constant time.
    if (await crypto.subtle.verify('HMAC', hmac, mac, signed)) return JSON.parse(body) as WebhookEvent;
  }
  throw new WebhookVerificationError('No signature matches this secret and body.');
};
