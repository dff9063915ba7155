import { sql } from 'kysely';

import type { Db } from '../db/create-database.js';
import type { VideoRow } from '../db/schema.js';
import { InvalidInputError } from '../errors/domain-error.js';
import { likeLiteral, parseExternalIdFilter, parseSearch } from './video-details.js';

/** Videos per page when the caller does not say. */
export const DEFAULT_PAGE_SIZE = 50;
/** The most videos one page may hold. */
export const MAX_PAGE_SIZE = 200;

/** One page of a list, newest first, and the cursor of the next page (`null` on the last one). */
export interface VideoPage {
  videos: VideoRow[];
  nextCursor: string | null;
}

/** Where a page ends: the (created_at, id) of its last video, created_at as text to keep its microseconds. */
interface CursorPosition {
  createdAt: string;
  id: string;
}

/** An opaque cursor (base64url JSON) for the position after `position`. */
function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt, i: position.id })).toString('base64url');
}

/** The position a cursor names; 400 for anything this service did not hand out. */
export function decodeCursor(cursor: string): CursorPosition {
  const invalid = () =>
    new InvalidInputError('cursor is not one this service handed out; start again without it.');
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { t, i } = (parsed ?? {}) as { t?: unknown; i?: unknown };
  if (
    typeof t !== 'string' ||
    typeof i !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(t) ||
    Number.isNaN(Date.parse(t)) ||
    !/^[0-9a-f-]{36}$/.test(i)
  ) {
    throw invalid();
  }
  return { createdAt: t, id: i };
}

/** `limit` from a query string: absent → {@link DEFAULT_PAGE_SIZE}; 1..{@link MAX_PAGE_SIZE}, else 400. */
export function parsePageSize(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_PAGE_SIZE;
  const limit = Number(value);
  if (!/^\d{1,4}$/.test(value) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}.`);
  }
  return limit;
}

/** What a list request asks for, read from its query string (`limit`, `cursor`, `external_id`, `q`). */
export interface ListRequest {
  limit: number;
  cursor: string | undefined;
  externalId: string | undefined;
  q: string | undefined;
}

/**
 * Reads a list's query parameters: 400 for a `limit` out of range or an `external_id` that cannot be one; a blank
 * `q` searches nothing.
 *
 * @example
 * listRequestOf((name) => c.req.query(name)); // { limit: 50, cursor: undefined, externalId: 'rec-42', q: undefined }
 */
export function listRequestOf(query: (name: string) => string | undefined): ListRequest {
  return {
    limit: parsePageSize(query('limit')),
    cursor: query('cursor'),
    externalId: parseExternalIdFilter(query('external_id')),
    q: parseSearch(query('q')),
  };
}

/**
 * One page of videos, newest first, by keyset on (created_at, id) — never an offset, so videos added while a
 * client pages never shift or repeat what it sees next: a page starts strictly after the cursor's video.
 * `ownerId` limits the list to one owner (omitted: every owner, for the management API); `externalId` to the videos
 * with that external id; `q` to titles that contain it, ignoring case (see decision 0025). The filters narrow the
 * same walk, so a cursor stays valid as long as the filters stay the same.
 *
 * @example
 * const first = await listVideoPage(db, { ownerId: 'alice', limit: 50 });
 * const second = first.nextCursor ? await listVideoPage(db, { ownerId: 'alice', limit: 50, cursor: first.nextCursor }) : undefined;
 */
export async function listVideoPage(
  db: Db,
  options: {
    ownerId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
    externalId?: string | undefined;
    q?: string | undefined;
  },
): Promise<VideoPage> {
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  let query = db
    .selectFrom('videos')
    .selectAll()
    .select(
      sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as(
        'created_at_text',
      ),
    );
  if (options.ownerId !== undefined) query = query.where('owner_id', '=', options.ownerId);
  if (options.externalId !== undefined) query = query.where('external_id', '=', options.externalId);
  if (options.q !== undefined) {
    query = query.where(sql<boolean>`title ilike ${`%${likeLiteral(options.q)}%`} escape '\\'`);
  }
  if (after) {
    query = query.where(
      sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`,
    );
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit + 1)
    .execute();
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  const nextCursor =
    rows.length > options.limit && last
      ? encodeCursor({ createdAt: last.created_at_text, id: last.id })
      : null;
  return { videos: page.map(({ created_at_text: _, ...video }) => video as VideoRow), nextCursor };
}
