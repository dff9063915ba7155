import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';

import { UnauthenticatedError } from '../errors/domain-error.js';

export interface UserTokenSettings {
  /** HS256 shared secret (the host app's backend signs with the same secret). */
  secret?: string | undefined;
  /** RS256 public keys, fetched and cached from the host app's JWKS endpoint. */
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  clockToleranceSeconds: number;
}

/** The most video ids one token's `watch` claim may grant. */
export const MAX_WATCH_IDS = 100;

/** Who a valid user token speaks for: the user (`sub`) and the other users' videos it may watch (`watch`). */
export interface UserIdentity {
  userId: string;
  /** Video ids granted by the token's `watch` claim (empty without one); the user's own videos need none. */
  watch: readonly string[];
}

export interface UserTokenVerifier {
  /** The user id (`sub`) of a valid token; throws `UnauthenticatedError` otherwise. */
  verify(token: string): Promise<string>;
  /** The user and their `watch` grants of a valid token; throws `UnauthenticatedError` otherwise. */
  identify(token: string): Promise<UserIdentity>;
}

/** A granted id as the claim may carry it: 1–128 characters (anything that is not a video id simply matches none). */
const WATCH_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The `watch` claim of a verified payload: absent → none; otherwise an array of at most {@link MAX_WATCH_IDS}
 * id strings, or the token is refused (401) — a malformed grant never silently means "no grant".
 */
export function parseWatchClaim(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_WATCH_IDS) {
    throw new UnauthenticatedError(
      `The token's watch claim must be an array of at most ${MAX_WATCH_IDS} video ids.`,
    );
  }
  for (const id of value) {
    if (typeof id !== 'string' || !WATCH_ID.test(id)) {
      throw new UnauthenticatedError("The token's watch claim must hold video ids (strings) only.");
    }
  }
  return [...new Set(value.map((id: string) => id.toLowerCase()))];
}

/**
 * Verifies the host app's user tokens. The algorithm is pinned (HS256 with a secret, RS256 with a JWKS), so
 * `alg: none` and algorithm-confusion tokens are refused; `exp` and `sub` are required; clock skew is bounded.
 */
export function createUserTokenVerifier(settings: UserTokenSettings): UserTokenVerifier {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (settings.jwksUrl) {
    key = createRemoteJWKSet(new URL(settings.jwksUrl));
    algorithms = ['RS256'];
  } else if (settings.secret) {
    key = new TextEncoder().encode(settings.secret);
    algorithms = ['HS256'];
  } else {
    throw new Error('User tokens need AUTH_JWT_SECRET or AUTH_JWKS_URL');
  }
  const identify = async (token: string): Promise<UserIdentity> => {
    try {
      const options = {
        algorithms,
        clockTolerance: settings.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
        ...(settings.issuer ? { issuer: settings.issuer } : {}),
        ...(settings.audience ? { audience: settings.audience } : {}),
      };
      const { payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options);
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
        throw new UnauthenticatedError('The token has no usable subject (sub).');
      }
      return { userId: payload.sub, watch: parseWatchClaim(payload['watch']) };
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('The token has expired.');
      throw new UnauthenticatedError('The token is not valid.', { cause: error });
    }
  };
  return {
    identify,
    async verify(token) {
      return (await identify(token)).userId;
    },
  };
}

/**
 * Mints an HS256 user token, as a host app's backend would (used by the CLI's `token` command and by tests).
 *
 * @example
 * const token = await mintUserToken({ secret, sub: 'user-42', ttlSeconds: 3600 });
 * const viewer = await mintUserToken({ secret, sub: 'bob', watch: [videoId], ttlSeconds: 3600 });
 */
export async function mintUserToken(options: {
  secret: string;
  sub: string;
  ttlSeconds: number;
  /** Other users' videos the token may watch (the `watch` claim); at most {@link MAX_WATCH_IDS}. */
  watch?: readonly string[] | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  now?: Date;
}): Promise<string> {
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims = options.watch && options.watch.length > 0 ? { watch: parseWatchClaim(options.watch) } : {};
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + options.ttlSeconds);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
