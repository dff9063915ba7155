export { createStreamClient } from './stream-client.js';
export type {
  RetryOptions,
  StreamClient,
  StreamClientOptions,
  TokenProvider,
  WaitForStreamOptions,
} from './stream-client.js';
export {
  StreamError,
  StreamFailedError,
  StreamHttpError,
  StreamNetworkError,
  StreamTimeoutError,
  isStreamError,
} from './errors.js';
export type { AnyStreamError, StreamErrorCode } from './errors.js';
export type {
  RequestOptions,
  StreamClock,
  StreamFailed,
  StreamGenerating,
  StreamPlayable,
  StreamReady,
  StreamState,
  StreamStatus,
  Video,
} from './types.js';
