/**
 * The part of a `/stream` client the element needs. `@notetaker/client-sdk`'s `createStreamClient` satisfies it;
 * hand the element your own through its `client` property to share one client (and its token logic) with the app.
 */
export interface PlayerStreamClient {
  getStream(id: string, options?: { signal?: AbortSignal }): Promise<StreamAnswer>;
  waitForStream(id: string, options?: WaitOptions): Promise<StreamAnswer>;
  retryStream(id: string, options?: { signal?: AbortSignal }): Promise<StreamAnswer>;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Called with every answer while polling, the last one included. */
  onStatus?: (answer: StreamAnswer) => void;
  /** Resolve as soon as a generating answer says `playable: true`. */
  untilPlayable?: boolean;
}

/** The `/stream` answer bodies (see the server's HTTP contract). */
export type StreamAnswer =
  | {
      status: 'generating';
      retry_after?: number;
      progress?: number;
      hls_url?: string;
      playable?: boolean;
      expires_at?: string;
    }
  | { status: 'ready'; hls_url: string; expires_at?: string }
  | { status: 'failed'; error_message?: string };

/** Async token provider; the element calls it again when the API rejects the token it returned. */
export type TokenProvider = () => string | Promise<string>;
