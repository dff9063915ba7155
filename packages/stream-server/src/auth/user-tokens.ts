import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';

import { UnauthenticatedError } from '../errors/domain-error.js';
import { createHmacKey } from './hmac-key.js';
import { createTokenMemo } from './token-memo.js';

export interface UserTokenSettings {
  /** HS256 shared secret (the host app's backend signs with the same secret). */
  secret?: string | undefined;
  /** RS256 public keys, fetched and cached from the host app's JWKS endpoint. */
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  clockToleranceSeconds: number;
}

export interface UserTokenVerifier {
  /** The user id (`sub`) of a valid token; throws `UnauthenticatedError` otherwise. */
  verify(token: string): Promise<string>;
}

/**
 * Verifies the host app's user tokens. The algorithm is pinned (HS256 with a secret, RS256 with a JWKS), so
 * `alg: none` and algorithm-confusion tokens are refused; `exp` and `sub` are required; clock skew is bounded.
 */
export function createUserTokenVerifier(settings: UserTokenSettings): UserTokenVerifier {
  let jwks: JWTVerifyGetKey | undefined;
  let hmac: (() => Promise<CryptoKey>) | undefined;
  let algorithms: string[];
  if (settings.jwksUrl) {
    jwks = createRemoteJWKSet(new URL(settings.jwksUrl));
    algorithms = ['RS256'];
  } else if (settings.secret) {
    hmac = createHmacKey(settings.secret, ['verify']);
    algorithms = ['HS256'];
  } else {
    throw new Error('User tokens need AUTH_JWT_SECRET or AUTH_JWKS_URL');
  }
  // A token verified once is the same token the next time (its signature included): until its `exp` its subject is
  // known without another HMAC. Only successes are kept, and `exp` is checked again on every use.
  const verified = createTokenMemo<{ sub: string; expMs: number }>();
  const toleranceMs = settings.clockToleranceSeconds * 1000;
  return {
    async verify(token) {
      const known = verified.get(token);
      if (known) {
        if (Date.now() <= known.expMs + toleranceMs) return known.sub;
        verified.delete(token);
      }
      try {
        const options = {
          algorithms,
          clockTolerance: settings.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
          ...(settings.issuer ? { issuer: settings.issuer } : {}),
          ...(settings.audience ? { audience: settings.audience } : {}),
        };
        const { payload } = jwks
          ? await jwtVerify(token, jwks, options)
          : await jwtVerify(token, await hmac!(), options);
        if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
          throw new UnauthenticatedError('The token has no usable subject (sub).');
        }
        if (typeof payload.exp === 'number')
          verified.set(token, { sub: payload.sub, expMs: payload.exp * 1000 });
        return payload.sub;
      } catch (error) {
        if (error instanceof UnauthenticatedError) throw error;
        if (error instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('The token has expired.');
        throw new UnauthenticatedError('The token is not valid.', { cause: error });
      }
    },
  };
}

/**
 * Mints an HS256 user token, as a host app's backend would (used by the CLI's `token` command and by tests).
 *
 * @example
 * const token = await mintUserToken({ secret, sub: 'user-42', ttlSeconds: 3600 });
 */
export async function mintUserToken(options: {
  secret: string;
  sub: string;
  ttlSeconds: number;
  issuer?: string | undefined;
  audience?: string | undefined;
  now?: Date;
}): Promise<string> {
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + options.ttlSeconds);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
