/** Resolves once `GET <baseUrl>/healthz` answers 2xx (a refused connection counts as "not yet"). */
export declare function waitForHealthy(
  baseUrl: string,
  options?: { timeoutMs?: number; intervalMs?: number },
): Promise<void>;
/**
 * Polls `/api/videos/<videoId>/stream` until it answers `200 ready`; rejects on any answer other than 202 or
 * `200 ready`, and at the deadline. `first` is the HTTP status of the first answer.
 */
export declare function waitForStreamReady(options: {
  baseUrl: string;
  token: string;
  videoId: string;
  timeoutMs?: number;
  intervalMs?: number;
}): Promise<{ first: number; body: Record<string, unknown> & { status: 'ready'; hls_url: string } }>;
