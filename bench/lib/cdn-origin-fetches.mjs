// The `cdn_origin_fetches_per_object` row: Debian's nginx with proxy_cache stands in for a CDN in front of the
// storage (the bucket, or the service's local storage routes); 50 viewer sessions of one video — the owner's and
// teammates' with a `watch` grant — each fetch the first 20 segments of their playlist through it. The origin's
// answers are counted by a pass-through between nginx and the origin. Target 1.0: each object fetched once per
// signing window however many people watch (docs/decisions/0016-cache-shareable-segment-urls.md).
import { eachLimited, startNginxCache } from '@notetaker/test-support/nginx-cache';

/**
 * Origin fetches ÷ distinct objects for `sessions` viewers of a ready video, each fetching its first `segments`
 * segments through nginx. Each session is one `/stream` and one playlist request with its own token (a fifth of
 * them the owner's, the rest teammates' with a `watch` grant minted by `POST /api/manage/tokens`).
 *
 * @param {{ apiUrl: string, origin: string, videoId: string, ownerToken: () => Promise<string>, serviceKey: string,
 *   sessions?: number, segments?: number }} options
 */
export async function cdnOriginFetchesPerObject({
  apiUrl,
  origin,
  videoId,
  ownerToken,
  serviceKey,
  sessions = 50,
  segments = 20,
}) {
  const nginx = await startNginxCache(origin, { maxSize: '4g' });
  try {
    const tokens = [];
    for (let i = 0; i < sessions; i += 1) {
      if (i % 5 === 0) {
        tokens.push(await ownerToken());
        continue;
      }
      const response = await fetch(`${apiUrl}/api/manage/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sub: `teammate-${i}`, watch: [videoId] }),
      });
      if (response.status !== 201) throw new Error(`POST /api/manage/tokens answered ${response.status}`);
      tokens.push((await response.json()).token);
    }
    const objects = new Set();
    await eachLimited(tokens, 10, async (token) => {
      const answer = await fetch(`${apiUrl}/api/videos/${videoId}/stream`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = await answer.json();
      if (answer.status !== 200 || body.status !== 'ready')
        throw new Error(`/stream answered ${answer.status}`);
      const playlist = await (await fetch(body.hls_url)).text();
      const uris = playlist
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('#'))
        .slice(0, segments);
      for (const uri of uris) {
        const url = new URL(uri, body.hls_url);
        objects.add(url.pathname);
        // Onto the cache: its origin, the same path and signed query (what SEGMENT_CDN_URL does).
        const response = await fetch(`${nginx.url}${url.pathname}${url.search}`);
        if (response.status !== 200) throw new Error(`segment through the cache answered ${response.status}`);
        await response.arrayBuffer();
      }
    });
    const fetches = nginx.originFetches();
    let fetched = 0;
    for (const path of objects) fetched += fetches.get(path) ?? 0;
    return { perObject: fetched / objects.size, objects: objects.size, originFetches: fetched, sessions };
  } finally {
    await nginx.stop();
  }
}
