/** The events a host app can subscribe to (docs/webhooks.md says when each is sent and what `data` holds). */
export const WebhookEventType = {
  /** A video was registered (an upload to come) or imported. */
  VideoCreated: 'video.created',
  /** Its source is stored: an upload completed, or an object was imported. */
  UploadCompleted: 'video.upload.completed',
  /** Its HLS is ready to play. */
  HlsReady: 'video.hls.ready',
  /** Its HLS generation failed for good. */
  HlsFailed: 'video.hls.failed',
  /** A lower quality of a ready video was made (players pick it up on their next master playlist). */
  RenditionReady: 'video.rendition.ready',
  /** A caption track was added, replaced or deleted. */
  CaptionsUpdated: 'video.captions.updated',
  /** Its chapters were set, replaced or removed. */
  ChaptersUpdated: 'video.chapters.updated',
  /** It was deleted (or its upload aborted). */
  VideoDeleted: 'video.deleted',
} as const;
export type WebhookEventType = (typeof WebhookEventType)[keyof typeof WebhookEventType];

/** Every event type, in the order of a video's life. */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = Object.freeze(
  Object.values(WebhookEventType),
);

export function isWebhookEventType(value: unknown): value is WebhookEventType {
  return typeof value === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * The event types a filter names, checked: unknown names and an empty list are problems (each one sentence).
 * `null`/`undefined` (every event) stays `null`.
 *
 * @example
 * checkEventFilter(['video.hls.ready', 'video.deleted']); // { events: ['video.hls.ready', 'video.deleted'], problems: [] }
 */
export function checkEventFilter(list: readonly string[] | null | undefined): {
  events: WebhookEventType[] | null;
  problems: string[];
} {
  if (list === null || list === undefined) return { events: null, problems: [] };
  const unknown = list.filter((name) => !isWebhookEventType(name));
  const problems: string[] = [];
  if (list.length === 0)
    problems.push('list at least one event type, or omit the filter to receive every event');
  if (unknown.length > 0) {
    problems.push(
      `unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; ` +
        `known: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    );
  }
  // Kept in the catalogue's order, each once.
  const events = WEBHOOK_EVENT_TYPES.filter((type) => list.includes(type));
  return { events, problems };
}

/** Whether a filter (`null` = every event) lets `type` through. */
export function filterAccepts(filter: readonly string[] | null, type: WebhookEventType): boolean {
  return filter === null || filter.includes(type);
}
