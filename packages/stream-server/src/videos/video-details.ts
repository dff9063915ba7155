import { InvalidInputError } from '../errors/domain-error.js';

// What a host app says about a video besides its media: a title, its own id for it (`external_id`) and a JSON object
// of its own (`metadata`), set at registration, import or by PATCH of either API; and the list filters that find
// videos by them. See docs/decisions/0025-video-metadata-and-search.md.

/** The most bytes a video's `metadata` may take, as compact JSON in UTF-8. */
export const MAX_METADATA_BYTES = 4096;

/** The most levels of objects and arrays inside `metadata` (the object itself is level 1). */
export const MAX_METADATA_DEPTH = 8;

/** The longest `external_id`, in characters. */
export const MAX_EXTERNAL_ID_LENGTH = 200;

/** The longest title, in characters. */
export const MAX_TITLE_LENGTH = 500;

/** The longest search (`q`), in characters. */
export const MAX_SEARCH_LENGTH = 200;

/** A video's metadata: a JSON object. */
export type VideoMetadata = Record<string, unknown>;

/**
 * A video's `metadata` checked and written as the JSON text to store: 400 naming the problem when it is not a JSON
 * object, is over {@link MAX_METADATA_BYTES} as compact JSON, nests deeper than {@link MAX_METADATA_DEPTH}, or holds
 * a NUL character (PostgreSQL's jsonb cannot). `null` stores `{}`. (Titles and external ids are checked at the route
 * edge by their schemas, like every other text field.)
 *
 * @example
 * metadataJson({ meeting_id: 'm-42' }); // '{"meeting_id":"m-42"}'
 */
export function metadataJson(metadata: unknown): string {
  if (metadata === null) return '{}';
  if (typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new InvalidInputError('metadata must be a JSON object, e.g. {"meeting_id":"m-42"}.');
  }
  checkJsonValue(metadata, 1);
  const json = JSON.stringify(metadata);
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_METADATA_BYTES) {
    throw new InvalidInputError(
      `metadata takes ${bytes} bytes as JSON; at most ${MAX_METADATA_BYTES} are allowed. Keep ids and small ` +
        'labels here, and larger data in your own database under the same external_id.',
    );
  }
  return json;
}

function checkJsonValue(value: unknown, depth: number): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new InvalidInputError('metadata must not contain NUL characters.');
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth > MAX_METADATA_DEPTH) {
    throw new InvalidInputError(
      `metadata may nest objects and arrays ${MAX_METADATA_DEPTH} levels deep at most.`,
    );
  }
  for (const [key, inner] of Object.entries(value)) {
    if (key.includes('\u0000')) throw new InvalidInputError('metadata must not contain NUL characters.');
    checkJsonValue(inner, depth + 1);
  }
}

/**
 * A list's `q` from a query string: absent or blank → no search; otherwise the trimmed text, at most
 * {@link MAX_SEARCH_LENGTH} characters.
 */
export function parseSearch(value: string | undefined): string | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (text.length > MAX_SEARCH_LENGTH) {
    throw new InvalidInputError(`q must be at most ${MAX_SEARCH_LENGTH} characters.`);
  }
  return text;
}

/** A list's `external_id` from a query string: absent → no filter; otherwise 1–{@link MAX_EXTERNAL_ID_LENGTH} characters. */
export function parseExternalIdFilter(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > MAX_EXTERNAL_ID_LENGTH) {
    throw new InvalidInputError(`external_id must be 1–${MAX_EXTERNAL_ID_LENGTH} characters.`);
  }
  return value;
}

/** `text` for a LIKE pattern that matches it literally (`%`, `_` and `\` escaped with `\`). */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
