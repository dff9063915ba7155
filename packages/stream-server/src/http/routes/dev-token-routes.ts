import { isIP } from 'node:net';

import { Hono, type Context } from 'hono';

import { isOwnerId } from '../../videos/video-json.js';
import { DevTokenBody, DevTokenAnswer } from '../api-schemas.js';
import { InvalidInputError, ForbiddenError } from '../../errors/domain-error.js';
import { describe } from '../openapi.js';
import { parseJsonBody, requireJsonContentType } from '../request-helpers.js';

export interface DevTokenRoutesDeps {
  /** Mints a user token the server accepts (HS256 with the server's own or the configured secret). */
  mintUserToken(sub: string, ttlSeconds: number): Promise<string>;
  /** The server's `PUBLIC_URL`: a request from a page on its origin is the server's own. */
  publicUrl?: string | undefined;
  /** Lifetime of minted tokens (default 12 h). */
  ttlSeconds?: number;
  clock?: () => Date;
}

/**
 * `POST /token {"user": "alice"}` → `{ "token", "user", "expires_at" }`: a user token for any user name, so the web
 * page (or curl) can sign in on a local, embedded-mode server. Mounted only when `DEV_LOGIN` is on, which is the
 * default only when no user-token settings are configured and the server listens on a loopback address; anyone who
 * reaches it can act as any user.
 *
 * Other web pages cannot use it: it never answers CORS (the app leaves `/api/dev/*` out of its CORS rule), takes
 * only `Content-Type: application/json` (a cross-origin JSON POST needs a preflight, which it never grants; 415
 * otherwise) and refuses (403) a request whose `Origin` is not the server's own.
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
      errors: [400, 403, 413, 415, 429],
    }),
    async (c) => {
      if (!isOwnOrigin(c, deps.publicUrl)) {
        throw new ForbiddenError(
          "The local sign-in answers only the server's own page (the Origin header names another site).",
        );
      }
      requireJsonContentType(c);
      const { user } = await parseJsonBody(c, DevTokenBody);
      if (!isOwnerId(user)) {
        throw new InvalidInputError(
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

/**
 * A request without `Origin` (curl, the CLI) or from the server's own origin: `PUBLIC_URL`'s, or the one the `Host`
 * header names when that is `localhost` or an IP address. A host name other than `PUBLIC_URL`'s is not trusted from
 * `Host`: a site can point its own name at this server's address (DNS rebinding) and would then match.
 */
function isOwnOrigin(c: Context, publicUrl: string | undefined): boolean {
  const origin = c.req.header('origin');
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file: pages) or garbage
  }
  if (publicUrl !== undefined && url.origin === new URL(publicUrl).origin) return true;
  const host = c.req.header('host')?.trim().toLowerCase();
  if (!host || url.host !== host) return false;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return hostname === 'localhost' || isIP(hostname) !== 0;
}
