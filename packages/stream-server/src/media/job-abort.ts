import { MediaMessage } from './ffmpeg-failure.js';
import { MediaError } from './media-error.js';

/** One media job's failure state: the first error wins and aborts everything the job started. */
export interface JobAbort {
  /** Aborted (with the first error as its reason) once anything fails or the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** The first failure, if any. */
  readonly firstError: MediaError | undefined;
  /** Records `error` unless an earlier one is already recorded, and aborts the job. */
  fail(error: MediaError): void;
  throwIfFailed(): void;
  /** Stops listening to the caller's signal; call when the job is over. */
  dispose(): void;
}

/**
 * Ties a job's own abort signal to the caller's: the caller aborting fails the job with an `aborted` MediaError.
 *
 * @example
 * const job = createJobAbort(options.signal);
 * try { await runFfmpeg({ …, signal: job.signal }); job.throwIfFailed(); } finally { job.dispose(); }
 */
export function createJobAbort(outer: AbortSignal | undefined): JobAbort {
  const controller = new AbortController();
  let firstError: MediaError | undefined;
  const fail = (error: MediaError): void => {
    firstError ??= error;
    if (!controller.signal.aborted) controller.abort(firstError);
  };
  const onOuterAbort = () =>
    fail(new MediaError('aborted', MediaMessage.Aborted, { permanent: false, cause: outer?.reason }));
  if (outer?.aborted) onOuterAbort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    get firstError() {
      return firstError;
    },
    fail,
    throwIfFailed() {
      if (firstError) throw firstError;
    },
    dispose() {
      outer?.removeEventListener('abort', onOuterAbort);
    },
  };
}
