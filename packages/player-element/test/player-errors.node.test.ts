// How /stream client errors and playback reload reasons become the documented notetaker-error codes and messages.
import {
  StreamFailedError,
  StreamHttpError,
  StreamNetworkError,
  StreamTimeoutError,
} from '@notetaker/client-sdk';
import { describe, expect, it } from 'vitest';
import { playerError, reloadErrorCode, streamErrorCode } from '../src/stream/player-errors.js';

describe('player errors', () => {
  it("maps the /stream client's errors to error codes", () => {
    expect(streamErrorCode(new StreamHttpError(404, 'not_found', 'Video not found'))).toBe('not_found');
    expect(streamErrorCode(new StreamHttpError(401, 'unauthorized', 'Invalid token'))).toBe('unauthorized');
    expect(streamErrorCode(new StreamHttpError(401, 'http_401', 'Unauthorized'))).toBe('unauthorized');
    expect(streamErrorCode(new StreamHttpError(409, 'upload_incomplete', 'No source'))).toBe(
      'upload_incomplete',
    );
    expect(streamErrorCode(new StreamFailedError('Invalid data found when processing input'))).toBe(
      'generation_failed',
    );
    expect(streamErrorCode(new StreamHttpError(500, 'internal', 'Internal error'))).toBe('network');
    expect(streamErrorCode(new StreamNetworkError(new TypeError('Failed to fetch')))).toBe('network');
    expect(streamErrorCode(new StreamTimeoutError(30_000))).toBe('network');
    // Loading hls.js failed.
    expect(streamErrorCode(new TypeError('Failed to fetch dynamically imported module'))).toBe('network');
    expect(streamErrorCode(undefined)).toBe('network');
  });

  it('maps the reason a reload did not help to the code playback stops on', () => {
    expect(reloadErrorCode('forbidden')).toBe('playback_forbidden');
    expect(reloadErrorCode('network')).toBe('playback_network');
    expect(reloadErrorCode('decode')).toBe('media_decode');
  });

  it('builds the error detail with its message, the server detail and the cause', () => {
    const cause = new Error('ffmpeg exited 1');
    expect(playerError('not_found')).toEqual({ code: 'not_found', message: 'This video is not available.' });
    const failed = playerError('generation_failed', 'Invalid data found when processing input', cause);
    expect(failed).toEqual({
      code: 'generation_failed',
      message: 'This video could not be prepared. Invalid data found when processing input',
      cause,
    });
    expect('cause' in playerError('network')).toBe(false);
  });
});
