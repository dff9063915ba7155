export { createStreamClient, createStreamPlaybackClient } from './stream-client.js';
export type {
  RetryOptions,
  StreamClient,
  StreamClientOptions,
  StreamPlaybackClient,
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
export type { PageOptions, VideoPage } from './pages.js';
export type {
  Caption,
  Chapter,
  ChapterList,
  VideoAnalytics,
  RequestOptions,
  StreamClock,
  StreamFailed,
  StreamGenerating,
  StreamPlayable,
  StreamReady,
  StreamState,
  StreamStatus,
  UploadInstructions,
  Video,
  VideoPatch,
} from './types.js';
