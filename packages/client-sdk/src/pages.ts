import type { RequestOptions, Video } from './types.js';

/** One page of a video list, newest first; `next_cursor` asks for the next one (`null` on the last page). */
export interface VideoPage {
  videos: Video[];
  next_cursor: string | null;
}

/**
 * Which page of a list: at most `limit` videos (1–200, the server's default 50) after `cursor`, optionally only the
 * videos with an `external_id` or whose title contains `q`. Keep the filters the same while following a cursor.
 */
export interface PageOptions extends RequestOptions {
  limit?: number;
  /** The previous page's `next_cursor`; omitted for the first page. */
  cursor?: string | undefined;
  /** Only the videos with this external id (one owner has at most one). */
  external_id?: string | undefined;
  /** Only videos whose title contains this text, ignoring case (1–200 characters). */
  q?: string | undefined;
}

/** `?limit=…&cursor=…&external_id=…&q=…` for a list route (empty when none is given), after `prefix` (`?` or `&`). */
export const pageQuery = (options: PageOptions, prefix: '?' | '&' = '?'): string => {
  const query = new URLSearchParams();
  if (options.limit !== undefined) query.set('limit', String(options.limit));
  for (const name of ['cursor', 'external_id', 'q'] as const) {
    const value = options[name];
    if (value) query.set(name, value);
  }
  const text = query.toString();
  return text ? prefix + text : '';
};

/**
 * Every video of a paged list, page after page (each page is fetched when the previous one has been consumed).
 *
 * @example
 * for await (const video of client.videos({ limit: 200 })) console.log(video.title);
 */
export async function* allPages<O extends PageOptions>(
  fetchPage: (options: O) => Promise<VideoPage>,
  options: O,
): AsyncGenerator<Video, void, undefined> {
  let cursor = options.cursor;
  do {
    const page = await fetchPage({ ...options, cursor });
    yield* page.videos;
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
}

/** Every video of a paged list, in one array. */
export const collectPages = async <O extends PageOptions>(
  fetchPage: (options: O) => Promise<VideoPage>,
  options: O,
): Promise<Video[]> => {
  const videos: Video[] = [];
  for await (const video of allPages(fetchPage, options)) videos.push(video);
  return videos;
};
