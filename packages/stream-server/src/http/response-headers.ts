import type { Context } from 'hono';

/**
 * Sets (or appends) a header on the answer a handler already made, in place. Hono's own `c.header()` after the
 * answer is made rebuilds it from its body (turning a string body into a stream), so middleware that adds a header
 * on the way out uses this instead; a response whose headers are immutable (a fetched or static body) is copied.
 */
export function setAnswerHeader(
  c: Context,
  name: string,
  value: string,
  options?: { append?: boolean },
): void {
  try {
    if (options?.append) c.res.headers.append(name, value);
    else c.res.headers.set(name, value);
  } catch {
    c.res = new Response(c.res.body, c.res);
    if (options?.append) c.res.headers.append(name, value);
    else c.res.headers.set(name, value);
  }
}
