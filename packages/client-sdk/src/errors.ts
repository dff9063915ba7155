const BRAND: unique symbol = Symbol.for('@notetaker/client-sdk.error') as never;

/** Error codes the server sends, plus the SDK's own (`stream_failed`, `timeout`, `network_error`, ...). */
export type StreamErrorCode =
  | 'unauthorized'
  | 'not_found'
  | 'upload_incomplete'
  | 'not_failed'
  | 'invalid_response'
  | 'stream_failed'
  | 'timeout'
  | 'network_error'
  | (string & {});

/**
 * Base class of every error this SDK throws. Prefer `isStreamError(x)` over `instanceof`: it also
 * recognises errors from another realm (iframe, worker bundle, a second copy of the package).
 */
export abstract class StreamError extends Error {
  declare readonly [BRAND]: true;
  abstract override readonly name: AnyStreamError['name'];
  /** HTTP status when the server answered, otherwise `undefined`. */
  readonly status: number | undefined;

  constructor(
    message: string,
    /** Machine-readable code: the server's `error.code`, or the SDK's own. */
    readonly code: StreamErrorCode,
    status?: number,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
  }
}
(StreamError.prototype as { [BRAND]: true })[BRAND] = true;

/**
 * The server answered with a 4xx/5xx status. `code` and `message` come from its
 * `{ "error": { "code", "message" } }` body (`http_<status>` when the body is not JSON).
 */
export class StreamHttpError extends StreamError {
  override readonly name = 'StreamHttpError';
  declare readonly status: number;

  constructor(
    status: number,
    code: StreamErrorCode,
    message: string,
    /** Delay the server asked for in its `Retry-After` header, in milliseconds. */
    readonly retryAfterMs?: number,
    /**
     * The server's id of the request (its `X-Request-Id` answer), which its logs carry: quote it when you report the
     * problem. `undefined` when the answer had none (a storage URL, a proxy's error page, a CORS setup hiding it).
     */
    readonly requestId?: string,
  ) {
    super(message, code, status);
  }
}

/** Generation failed (`status: "failed"`); `message` is the server's `error_message`. */
export class StreamFailedError extends StreamError {
  override readonly name = 'StreamFailedError';

  constructor(message: string) {
    super(message, 'stream_failed');
  }
}

/** `waitForStream` did not reach its goal within `timeout` milliseconds. */
export class StreamTimeoutError extends StreamError {
  override readonly name = 'StreamTimeoutError';

  constructor(timeout: number) {
    super(`Stream not ready within ${timeout} ms`, 'timeout');
  }
}

/** The request never got an HTTP answer (offline, DNS, CORS, connection reset); `cause` has the detail. */
export class StreamNetworkError extends StreamError {
  override readonly name = 'StreamNetworkError';

  constructor(cause: unknown) {
    super('Network request failed', 'network_error', undefined, cause);
  }
}

/** Every concrete error class; narrow it further with `err.name`. */
export type AnyStreamError = StreamHttpError | StreamFailedError | StreamTimeoutError | StreamNetworkError;

/**
 * True for any error thrown by this SDK, across realms and package copies.
 * Narrow with `name`: `if (isStreamError(e) && e.name === 'StreamHttpError') e.status`.
 */
export const isStreamError = (x: unknown): x is AnyStreamError =>
  (x as { [BRAND]?: unknown } | null)?.[BRAND] === true;
