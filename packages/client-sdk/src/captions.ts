import type { Send } from './http.js';
import type { Caption, RequestOptions } from './types.js';

/** A WebVTT file: its text, or its bytes (UTF-8). */
export type CaptionSource = string | Blob | Uint8Array | ArrayBuffer;

export interface PutCaptionOptions extends RequestOptions {
  /** What players show in their captions menu; default: the language's English name (kept on replace when absent). */
  label?: string;
  /** `true` shows this track without the viewer choosing (the video's other tracks lose it); kept on replace when absent. */
  default?: boolean;
}

/** The caption calls both clients make, under `path(id, rest)` (`/api/videos/…` or `/api/manage/videos/…`). */
export const captionCalls = (send: Send, path: (id: string, rest: string) => string) => ({
  async putCaption(
    id: string,
    language: string,
    vtt: CaptionSource,
    o: PutCaptionOptions = {},
  ): Promise<Caption> {
    const query = new URLSearchParams();
    if (o.label != null) query.set('label', o.label);
    if (o.default != null) query.set('default', String(o.default));
    const body = vtt instanceof ArrayBuffer ? new Uint8Array(vtt) : vtt;
    const search = String(query);
    const rest = `/captions/${encodeURIComponent(language)}${search ? '?' + search : ''}`;
    return (await send('PUT', path(id, rest), o.signal, body, 'text/vtt; charset=utf-8')).data;
  },
  listCaptions: async (id: string, o: RequestOptions = {}): Promise<Caption[]> =>
    (await send('GET', path(id, '/captions'), o.signal)).data.captions,
  deleteCaption: async (id: string, language: string, o: RequestOptions = {}): Promise<void> => {
    await send('DELETE', path(id, '/captions/' + encodeURIComponent(language)), o.signal);
  },
});
