// The React wrapper in React 19 (StrictMode), served as one esbuild bundle because React ships CommonJS.
import { createElement, StrictMode } from 'react';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import type { NotetakerErrorDetail, NotetakerStatusDetail } from '../src/constants.js';
import { NotetakerPlayer } from '../src/react.js';
import {
  apiError,
  assert,
  equal,
  generating,
  scriptApi,
  waitFor,
  type ScriptedApi,
} from './support/browser.js';

const VIDEO = '0b6d5e4c-3a21-4c2e-9f1a-3f2c1b7e8a4d';
const OTHER = '9f1a0b6d-5e4c-4a21-8c2e-3f2c1b7e8a4d';
let api: ScriptedApi | undefined;
let root: Root | undefined;
let container: HTMLElement;

beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
});

afterEach(() => {
  root?.unmount();
  root = undefined;
  container.remove();
  api?.restore();
  api = undefined;
});

describe('React wrapper', () => {
  it('sets props as element properties and starts one load under StrictMode', async () => {
    const stream = (api = scriptApi(() => generating({ progress: 0.4 })));
    const statuses: NotetakerStatusDetail[] = [];
    let requestsAtFirstStatus = 0;
    const getToken = async () => 'react-token';
    root = createRoot(container);
    flushSync(() =>
      root!.render(
        createElement(
          StrictMode,
          null,
          createElement(NotetakerPlayer, {
            videoId: VIDEO,
            apiBase: stream.base,
            getToken,
            autoplay: 'muted',
            controls: false,
            onNotetakerStatus: (event: CustomEvent<NotetakerStatusDetail>) => {
              if (!statuses.length) requestsAtFirstStatus = stream.requests.length;
              statuses.push(event.detail);
            },
          }),
        ),
      ),
    );
    const player = container.querySelector('notetaker-player')!;
    await waitFor(() => statuses.length > 0, 'onNotetakerStatus called');
    equal(requestsAtFirstStatus, 1, '/stream requests when the first status arrived');
    equal(stream.requests[0]!.authorization, 'Bearer react-token', 'token from getToken');
    equal(player.getToken, getToken, 'function prop set as a property');
    equal(player.autoplay, 'muted', 'autoplay property');
    equal(player.controls, false, 'controls property');
    equal(
      JSON.stringify(statuses[0]),
      JSON.stringify({ status: 'preparing', progress: 0.4 }),
      'status detail',
    );
  });

  it('loads the new video when videoId changes and aborts its request on unmount', async () => {
    const stream = (api = scriptApi(() => generating()));
    root = createRoot(container);
    const render = (videoId: string) =>
      flushSync(() =>
        root!.render(createElement(NotetakerPlayer, { videoId, apiBase: stream.base, token: 't' })),
      );
    render(VIDEO);
    await waitFor(() => stream.requests.length === 1, 'first request');
    render(OTHER);
    await waitFor(() => stream.requests.some((r) => r.path.includes(OTHER)), 'request for the new video');
    root.unmount();
    root = undefined;
    await waitFor(() => stream.inFlight() === 0, 'no request in flight after unmount');
    assert(
      stream.requests.every((r) => r.settled),
      'every request answered or aborted',
    );
  });

  it('calls onNotetakerError with the error code', async () => {
    const stream = (api = scriptApi(() => apiError(404, 'not_found')));
    const errors: NotetakerErrorDetail[] = [];
    root = createRoot(container);
    flushSync(() =>
      root!.render(
        createElement(NotetakerPlayer, {
          videoId: VIDEO,
          apiBase: stream.base,
          token: 't',
          onNotetakerError: (event: CustomEvent<NotetakerErrorDetail>) => errors.push(event.detail),
        }),
      ),
    );
    await waitFor(() => errors.length > 0, 'onNotetakerError called');
    equal(errors[0]!.code, 'not_found', 'code');
    assert(container.querySelector('notetaker-player')!.state === 'error', 'error state');
  });
});
