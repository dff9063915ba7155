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

export interface UserTokenVerifier {
  /** The user id (`sub`) of a valid token; throws `UnauthenticatedError` otherwise. */
  verify(token: string): Promise<string>;
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
  return {
    async verify(token) {
      try {
        const options = {
          algorithms,
          clockTolerance: settings.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
          ...(settings.issuer ? { issuer: settings.issuer } : {}),
          ...(settings.audience ? { audience: settings.audience } : {}),
        };
        const { payload } =
          typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
        if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
          throw new UnauthenticatedError('The token has no usable subject (sub).');
        }
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
