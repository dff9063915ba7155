import { Hono } from 'hono';

import { isOwnerId } from '../../videos/video-json.js';
import { DevTokenBody, DevTokenAnswer } from '../api-schemas.js';
import { BadRequestError } from '../errors.js';
import { describe } from '../openapi.js';
import { parseJsonBody } from '../request-helpers.js';

export interface DevTokenRoutesDeps {
  /** Mints a user token the server accepts (HS256 with the server's own or the configured secret). */
  mintUserToken(sub: string, ttlSeconds: number): Promise<string>;
  /** Lifetime of minted tokens (default 12 h). */
  ttlSeconds?: number;
  clock?: () => Date;
}

/**
 * `POST /token {"user": "alice"}` → `{ "token", "user", "expires_at" }`: a user token for any user name, so the web
 * page (or curl) can sign in on a local, embedded-mode server. Mounted only when `DEV_LOGIN` is on, which is the
 * default only when no user-token settings are configured; anyone who reaches it can act as any user.
 *
 * @example
 * app.route('/api/dev', createDevTokenRoutes({ mintUserToken: (sub, ttl) => mintUserToken({ secret, sub, ttlSeconds: ttl }) }));
 */
export function createDevTokenRoutes(deps: DevTokenRoutesDeps) {
  const app = new Hono();
  const ttlSeconds = deps.ttlSeconds ?? 12 * 60 * 60;
  const clock = deps.clock ?? (() => new Date());

  app.post(
    '/token',
    describe({
      summary: 'Mint a user token for local use (DEV_LOGIN)',
      tags: ['local'],
      security: 'none',
      body: DevTokenBody,
      responses: { 200: { description: 'A user token', schema: DevTokenAnswer } },
      errors: [400],
    }),
    async (c) => {
      const { user } = await parseJsonBody(c, DevTokenBody);
      if (!isOwnerId(user)) {
        throw new BadRequestError(
          'user must be 1–128 letters, digits or . _ @ | : - (it becomes part of storage keys)',
        );
      }
      const token = await deps.mintUserToken(user, ttlSeconds);
      const expiresAt = new Date(clock().getTime() + ttlSeconds * 1000).toISOString();
      c.header('Cache-Control', 'no-store');
      return c.json({ token, user, expires_at: expiresAt });
    },
  );

  return app;
}
