import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

import { UnauthenticatedError } from '../errors/domain-error.js';
import { createHmacKey } from './hmac-key.js';
import { createTokenMemo } from './token-memo.js';

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
  const key = createHmacKey(secret, ['sign', 'verify']);
  // Tokens minted for the same grant and lifetime within the same second are the same bytes: sign them once.
  const minted = createTokenMemo<string>();
  // A verified token stays valid until its `exp`, checked again against the clock on every use.
  const verified = createTokenMemo<{ grant: PlaybackGrant; expMs: number }>();
  return {
    async mint(grant, ttlSeconds) {
      const now = Math.floor(clock().getTime() / 1000);
      const expiresAt = new Date((now + ttlSeconds) * 1000);
      const memoKey = `${now}\n${ttlSeconds}\n${grant.userId}\n${grant.videoId}\n${grant.shared === true}`;
      const known = minted.get(memoKey);
      if (known) return { token: known, expiresAt };
      const token = await new SignJWT(
        grant.shared ? { vid: grant.videoId, shr: true } : { vid: grant.videoId },
      )
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(grant.userId)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .sign(await key());
      minted.set(memoKey, token);
      return { token, expiresAt };
    },
    async verify(token) {
      const known = verified.get(token);
      if (known) {
        if (clock().getTime() < known.expMs) return { ...known.grant };
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, await key(), {
          algorithms: ['HS256'],
          audience: AUDIENCE,
          requiredClaims: ['exp', 'sub', 'vid'],
          currentDate: clock(),
        });
        if (typeof payload.sub !== 'string' || typeof payload['vid'] !== 'string') {
          throw new UnauthenticatedError('The playback token is not valid.');
        }
        const grant: PlaybackGrant = {
          userId: payload.sub,
          videoId: payload['vid'],
          ...(payload['shr'] === true ? { shared: true } : {}),
        };
        if (typeof payload.exp === 'number')
          verified.set(token, { grant: { ...grant }, expMs: payload.exp * 1000 });
        return grant;
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
