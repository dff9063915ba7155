// The token the element's own /stream client sends: the token property, or getToken's answer kept until rejected.
import { describe, expect, it } from 'vitest';
import type { TokenProvider } from '../src/stream-client.js';
import { TokenCache, type TokenSource } from '../src/stream/token-cache.js';

/** A token provider that answers `token-1`, `token-2`, … and records how it was called. */
function provider(): { getToken: TokenProvider; calls: boolean[] } {
  const calls: boolean[] = [];
  return {
    calls,
    getToken: async ({ refresh }) => {
      calls.push(refresh);
      return `token-${calls.length}`;
    },
  };
}

describe('token cache', () => {
  it('sends the token property, read at every request, when there is no provider', () => {
    const source: { token: string | null; getToken: TokenProvider | null } = { token: 'a', getToken: null };
    const tokens = new TokenCache(source);
    expect(tokens.get({ refresh: false })).toBe('a');
    source.token = 'b';
    expect(tokens.get({ refresh: true })).toBe('b');
    source.token = null;
    expect(tokens.get({ refresh: false })).toBe('');
  });

  it('calls getToken once for requests that ask together and keeps its answer', async () => {
    const { getToken, calls } = provider();
    const tokens = new TokenCache({ token: null, getToken });
    const answers = await Promise.all([tokens.get({ refresh: false }), tokens.get({ refresh: false })]);
    expect(answers).toEqual(['token-1', 'token-1']);
    expect(await tokens.get({ refresh: false })).toBe('token-1');
    expect(calls).toEqual([false]);
  });

  it('calls getToken again with refresh when the API rejected the token, and after clear', async () => {
    const { getToken, calls } = provider();
    const tokens = new TokenCache({ token: null, getToken });
    expect(await tokens.get({ refresh: false })).toBe('token-1');
    expect(await tokens.get({ refresh: true })).toBe('token-2');
    expect(await tokens.get({ refresh: false })).toBe('token-2');
    tokens.clear();
    expect(await tokens.get({ refresh: false })).toBe('token-3');
    expect(calls).toEqual([false, true, false]);
  });

  it('does not keep a getToken call that failed', async () => {
    let fail = true;
    const source: TokenSource = {
      token: null,
      getToken: async () => {
        if (fail) throw new Error('signed out');
        return 'fresh';
      },
    };
    const tokens = new TokenCache(source);
    await expect(tokens.get({ refresh: false })).rejects.toThrow('signed out');
    fail = false;
    expect(await tokens.get({ refresh: false })).toBe('fresh');
  });
});
