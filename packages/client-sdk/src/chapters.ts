import type { Send } from './http.js';
import type { Chapter, ChapterList, RequestOptions, VideoAnalytics } from './types.js';

/** A video's chapters: a list, or the text or bytes of a WebVTT `kind=chapters` file. */
export type ChaptersSource = readonly Chapter[] | string | Blob | Uint8Array | ArrayBuffer;

/** The chapter calls both clients make, under `path(id, rest)` (`/api/videos/…` or `/api/manage/videos/…`). */
export const chapterCalls = (send: Send, path: (id: string, rest: string) => string) => ({
  async putChapters(id: string, chapters: ChaptersSource, o: RequestOptions = {}): Promise<Chapter[]> {
    const answer = Array.isArray(chapters)
      ? await send('PUT', path(id, '/chapters'), o.signal, { chapters })
      : await send(
          'PUT',
          path(id, '/chapters'),
          o.signal,
          chapters instanceof ArrayBuffer ? new Uint8Array(chapters) : chapters,
          'text/vtt; charset=utf-8',
        );
    return (answer.data as ChapterList).chapters;
  },
  getChapters: async (id: string, o: RequestOptions = {}): Promise<Chapter[]> =>
    ((await send('GET', path(id, '/chapters'), o.signal)).data as ChapterList).chapters,
  deleteChapters: async (id: string, o: RequestOptions = {}): Promise<void> => {
    await send('DELETE', path(id, '/chapters'), o.signal);
  },
  getAnalytics: async (id: string, o: RequestOptions = {}): Promise<VideoAnalytics> =>
    (await send('GET', path(id, '/analytics'), o.signal)).data as VideoAnalytics,
});
