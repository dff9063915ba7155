// Waiting for a running server from outside, as a client would: until it answers `/healthz`, and until a video's
// `/stream` answers `ready`. Shared by the benchmark (bench/lib/hot-path.mjs) and the image smoke test
// (scripts/image-test/smoke.mjs).

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `GET <baseUrl>/healthz` answers 2xx; a refused connection counts as "not yet".
 *
 * @example
 * await waitForHealthy('http://127.0.0.1:8787');
 */
export async function waitForHealthy(baseUrl, { timeoutMs = 10_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${baseUrl}/healthz did not answer within ${timeoutMs} ms`);
    await pause(intervalMs);
  }
}

/**
 * Polls `GET <baseUrl>/api/videos/<videoId>/stream` with `token` until it answers `200 ready`, and resolves with
 * that body and the HTTP status of the first answer. Any answer other than `202` (generating) or `200 ready` — a
 * `failed` video, a 4xx or 5xx — rejects with the answer in the message, as does the deadline.
 *
 * @example
 * const { first, body } = await waitForStreamReady({ baseUrl, token, videoId });
 * // first === 202 on a first view; body.hls_url is the playlist
 */
export async function waitForStreamReady({ baseUrl, token, videoId, timeoutMs = 120_000, intervalMs = 250 }) {
  const deadline = Date.now() + timeoutMs;
  let first;
  for (;;) {
    const response = await fetch(`${baseUrl}/api/videos/${videoId}/stream`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    first ??= response.status;
    if (response.status === 200 && body?.status === 'ready') return { first, body };
    if (response.status !== 202) {
      throw new Error(
        `/stream answered ${response.status} ${JSON.stringify(body)} instead of generating or ready`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`/stream not ready within ${timeoutMs} ms: ${JSON.stringify(body)}`);
    }
    await pause(intervalMs);
  }
}
