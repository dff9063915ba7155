import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

import { UnauthenticatedError } from '../errors/domain-error.js';

const AUDIENCE = 'notetaker-playback';

/** What a playback token grants: one user's access to one video's playlist, until it expires. */
export interface PlaybackGrant {
  /** The viewer: the owner, or a user whose token's `watch` claim named the video. */
  userId: string;
  videoId: string;
  /** The viewer is not the owner: `/stream` let them in through a `watch` grant. */
  shared?: boolean;
}

export interface PlaybackTokens {
  mint(grant: PlaybackGrant, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }>;
  /** The grant of a valid token; throws `UnauthenticatedError` for an invalid or expired one. */
  verify(token: string): Promise<PlaybackGrant>;
}

/**
 * Short-lived tokens carried in `hls_url` (a query parameter, since players cannot add headers to every request).
 * Signed with the service's own secret, separate from user tokens, so a playback token is never a user token.
 */
export function createPlaybackTokens(secret: string, clock: () => Date = () => new Date()): PlaybackTokens {
  const key = new TextEncoder().encode(secret);
  return {
    async mint(grant, ttlSeconds) {
      const now = Math.floor(clock().getTime() / 1000);
      const expiresAt = new Date((now + ttlSeconds) * 1000);
      const token = await new SignJWT(
        grant.shared ? { vid: grant.videoId, shr: true } : { vid: grant.videoId },
      )
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(grant.userId)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(key);
      return { token, expiresAt };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          audience: AUDIENCE,
          requiredClaims: ['exp', 'sub', 'vid'],
          currentDate: clock(),
        });
        if (typeof payload.sub !== 'string' || typeof payload['vid'] !== 'string') {
          throw new UnauthenticatedError('The playback token is not valid.');
        }
        return {
          userId: payload.sub,
          videoId: payload['vid'],
          ...(payload['shr'] === true ? { shared: true } : {}),
        };
      } catch (error) {
        if (error instanceof UnauthenticatedError) throw error;
        if (error instanceof joseErrors.JWTExpired) {
          throw new UnauthenticatedError('The playback link has expired; ask /stream for a fresh one.');
        }
        throw new UnauthenticatedError('The playback token is not valid.', { cause: error });
      }
    },
  };
}
