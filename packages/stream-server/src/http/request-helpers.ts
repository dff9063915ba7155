import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';

import { DomainError, ErrorCode, InvalidInputError } from '../errors/domain-error.js';
import type { VideoDetails } from '../videos/video-registry.js';

/**
 * Characters refused in titles, ids and query parameters: C0 controls (NUL, tab, line breaks, ESC, BEL…), DEL, C1
 * controls, and the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) that make text display
 * differently from what it is.
 */
// eslint-disable-next-line no-control-regex
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** A readable description of {@link UNSAFE_TEXT}, for error messages. */
export const UNSAFE_TEXT_MESSAGE =
  'must not contain control characters (NUL, tabs, line breaks, escape codes) or bidirectional overrides';

/** Whether `value` has a character of {@link UNSAFE_TEXT}. */
export function hasUnsafeText(value: string): boolean {
  return UNSAFE_TEXT.test(value);
}

/**
 * 413 `payload_too_large` for a body over `maxBytes`, before it is read: a `Content-Length` over the limit is
 * refused at once, a chunked body as soon as it passes the limit (it is buffered up to the limit, never beyond).
 * The answer carries `Connection: close`, since the rest of the body is not read.
 */
export function jsonBodyLimit(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) =>
      c.json(
        {
          error: {
            code: ErrorCode.PayloadTooLarge,
            message: `A JSON request body may be at most ${formatBytes(maxBytes)} (MAX_JSON_BODY_BYTES).`,
          },
        },
        413,
        { Connection: 'close' },
      ),
  });
}

/** 415 `unsupported_media_type` unless the request says `Content-Type: application/json`. */
export function requireJsonContentType(c: Context): void {
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new DomainError(
      ErrorCode.UnsupportedMediaType,
      `Send the body as JSON with Content-Type: application/json (got ${type ? type : 'none'}).`,
    );
  }
}

function formatBytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** Parses a JSON body against a schema; malformed JSON or a wrong shape is a 400 with a readable message. */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  const text = await c.req.text();
  if (text.trim() === '') body = {};
  else {
    try {
      body = JSON.parse(text);
    } catch {
      throw new InvalidInputError('The request body is not valid JSON.');
    }
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new InvalidInputError(`Invalid request body: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The bearer token of the request, or `undefined`. */
export function bearerToken(c: Context): string | undefined {
  const header = c.req.header('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * The video details a PATCH body names, as the registry takes them (`external_id` → `externalId`); absent fields
 * stay absent, `null` stays `null`.
 */
export function detailsOf(body: {
  title?: string | null | undefined;
  external_id?: string | null | undefined;
  metadata?: Record<string, unknown> | null | undefined;
}): VideoDetails {
  return {
    ...(body.title !== undefined ? { title: body.title } : {}),
    ...(body.external_id !== undefined ? { externalId: body.external_id } : {}),
    ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
  };
}
