import { randomUUID } from 'node:crypto';

import type { MiddlewareHandler } from 'hono';

import { setAnswerHeader } from './response-headers.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** This request's id: the caller's `X-Request-Id` when usable, a fresh UUID otherwise. */
    requestId: string;
  }
}

/** The header that carries a request's id, in both directions. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** What a caller's id may look like to be echoed (and logged): 1–128 visible, header- and log-safe characters. */
const USABLE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** The caller's request id when usable; a fresh UUID otherwise. */
export function requestIdOf(given: string | undefined): string {
  return given !== undefined && USABLE_ID.test(given) ? given : randomUUID();
}

/**
 * Gives every request an id — the caller's `X-Request-Id` when it is usable, else a new UUID — available to the
 * handlers and logs as `c.get('requestId')`, and answers it in `X-Request-Id` on every response, errors included.
 *
 * @example
 * app.use('*', requestIds());
 */
export function requestIds(): MiddlewareHandler {
  return async (c, next) => {
    const id = requestIdOf(c.req.header(REQUEST_ID_HEADER));
    c.set('requestId', id);
    await next();
    setAnswerHeader(c, REQUEST_ID_HEADER, id);
  };
}
