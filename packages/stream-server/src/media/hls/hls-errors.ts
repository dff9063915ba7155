import { StorageError } from '../../storage/storage.js';
import { MediaMessage } from '../ffmpeg-failure.js';
import type { MediaPlan } from '../choose-plan.js';
import { MediaError } from '../media-error.js';

/** The stderr tail and command line of a failed run, to carry over into the error that replaces it. */
function pickLogDetails(error: MediaError): { stderrTail?: string; command?: string } {
  const { stderrTail, command } = error.details;
  return {
    ...(stderrTail === undefined ? {} : { stderrTail }),
    ...(command === undefined ? {} : { command }),
  };
}

/** The source ends early: permanent, saying how much of it could be read. */
export function incompleteError(readSeconds: number, probedSeconds: number, cause?: unknown): MediaError {
  const read = readSeconds.toFixed(1);
  const total = probedSeconds.toFixed(1);
  return new MediaError(
    'incomplete',
    `The video file is incomplete or damaged: only ${read} of ${total} seconds could be read.`,
    { permanent: true, cause, ...(cause instanceof MediaError ? pickLogDetails(cause) : {}) },
  );
}

/** The bucket refused a write: transient unless the storage says otherwise. */
export function storageFailure(cause: unknown): MediaError {
  const permanent = cause instanceof StorageError ? !cause.transient : false;
  return new MediaError('storage', MediaMessage.StoreFailed, { permanent, cause });
}

/** ffprobe chose another plan than the one the MP4 index vouched for: transient, retried without the shortcut. */
export function indexDisagreement(probedPlan: MediaPlan): MediaError {
  return new MediaError('ffmpeg_failed', MediaMessage.ConversionFailed, {
    permanent: false,
    cause: new Error(`the MP4 index and ffprobe disagree: ffprobe chose ${JSON.stringify(probedPlan)}`),
  });
}

/** Any failure as a {@link MediaError}: one already is, anything else is a transient conversion failure. */
export function unexpectedFailure(cause: unknown): MediaError {
  if (cause instanceof MediaError) return cause;
  return new MediaError('ffmpeg_failed', MediaMessage.ConversionFailed, { permanent: false, cause });
}
