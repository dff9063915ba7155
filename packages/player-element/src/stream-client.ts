import type { StreamClient, TokenProvider } from '@notetaker/client-sdk';

/**
 * The part of a `/stream` client the element uses. `createStreamClient` from `@notetaker/client-sdk` returns one;
 * hand the element your own through its `client` property to share one client (and its token logic) with the app.
 */
export type PlayerStreamClient = Pick<StreamClient, 'getStream' | 'waitForStream' | 'retryStream'>;

export type { TokenProvider };
export type { StreamStatus } from '@notetaker/client-sdk';
