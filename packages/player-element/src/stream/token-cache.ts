import type { TokenProvider } from '../stream-client.js';

/** Where the token comes from: the element's `token` and `getToken` properties, read at every request. */
export interface TokenSource {
  readonly token: string | null;
  readonly getToken: TokenProvider | null;
}

/**
 * The token the element's own `/stream` client sends, asked before every request: the `token` property, or the
 * answer of `getToken`, called once and kept until the API rejects it (then called with `{ refresh: true }`).
 * Requests that ask while a call is pending share it; a call that fails is not kept.
 */
export class TokenCache {
  #source: TokenSource;
  #pending: Promise<string> | null = null;

  constructor(source: TokenSource) {
    this.#source = source;
  }

  /** The `getToken` option of `createStreamClient`. */
  get = ({ refresh }: { refresh: boolean }): string | Promise<string> => {
    const { token, getToken } = this.#source;
    if (!getToken) return token ?? '';
    if (refresh) this.#pending = null;
    const pending = (this.#pending ??= Promise.resolve(getToken({ refresh })));
    pending.catch(() => {
      if (this.#pending === pending) this.#pending = null;
    });
    return pending;
  };

  /** The token or its provider changed: the next request asks again. */
  clear(): void {
    this.#pending = null;
  }
}
