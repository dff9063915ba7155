import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  StreamError,
  StreamFailedError,
  StreamHttpError,
  StreamNetworkError,
  StreamTimeoutError,
  isStreamError,
  type AnyStreamError,
} from '../src/index.js';

/** Loads the error module into a fresh V8 context: its classes are distinct from the ones imported above. */
const loadInOtherRealm = () => {
  const entry = fileURLToPath(new URL('../src/errors.ts', import.meta.url));
  const { outputFiles } = buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    globalName: 'sdk',
    write: false,
  });
  const context = vm.createContext({});
  vm.runInContext(`${outputFiles[0]!.text}; globalThis.sdk = sdk;`, context);
  return context.sdk as typeof import('../src/errors.js');
};

describe('error classes', () => {
  it('StreamHttpError carries a literal name, the status, the server code and Retry-After', () => {
    const error = new StreamHttpError(404, 'not_found', 'Video not found', 3000);
    expect(error).toMatchObject({
      name: 'StreamHttpError',
      status: 404,
      code: 'not_found',
      retryAfterMs: 3000,
    });
    expect(error.message).toBe('Video not found');
    expect(error).toBeInstanceOf(StreamError);
    expect(error).toBeInstanceOf(Error);
  });

  it('StreamFailedError uses the error_message as message and code stream_failed', () => {
    expect(new StreamFailedError('corrupt input')).toMatchObject({
      name: 'StreamFailedError',
      code: 'stream_failed',
      message: 'corrupt input',
      status: undefined,
    });
  });

  it('StreamTimeoutError names its deadline and has code timeout', () => {
    const error = new StreamTimeoutError(5000);
    expect(error).toMatchObject({ name: 'StreamTimeoutError', code: 'timeout' });
    expect(error.message).toContain('5000 ms');
  });

  it('StreamNetworkError keeps the original failure as cause', () => {
    const cause = new TypeError('fetch failed');
    expect(new StreamNetworkError(cause)).toMatchObject({
      name: 'StreamNetworkError',
      code: 'network_error',
      cause,
    });
  });

  it('shows the literal name in the stack trace', () => {
    expect(new StreamHttpError(500, 'internal', 'boom').stack).toMatch(/^StreamHttpError: boom/);
  });
});

describe('isStreamError', () => {
  it('recognises every SDK error class', () => {
    const errors: AnyStreamError[] = [
      new StreamHttpError(500, 'internal', 'x'),
      new StreamFailedError('x'),
      new StreamTimeoutError(1),
      new StreamNetworkError(new TypeError('x')),
    ];
    expect(errors.map(isStreamError)).toEqual([true, true, true, true]);
  });

  it('rejects other errors and values', () => {
    const fakes = [
      new Error('x'),
      new DOMException('aborted', 'AbortError'),
      Object.assign(new Error('x'), { name: 'StreamHttpError' }),
      null,
      undefined,
      'StreamHttpError',
      42,
    ];
    expect(fakes.map(isStreamError)).toEqual(fakes.map(() => false));
  });

  it('recognises errors created in another realm, where instanceof fails', () => {
    const other = loadInOtherRealm();
    const foreign = new other.StreamHttpError(404, 'not_found', 'Video not found');
    expect(foreign instanceof StreamHttpError).toBe(false);
    expect(foreign instanceof Error).toBe(false);
    expect(isStreamError(foreign)).toBe(true);
    expect(other.isStreamError(new StreamFailedError('x'))).toBe(true);
  });

  it('narrows to a concrete class through the literal name', () => {
    const error: unknown = new StreamHttpError(409, 'upload_incomplete', 'x');
    if (!isStreamError(error) || error.name !== 'StreamHttpError') return expect.unreachable();
    const status: number = error.status;
    expect(status).toBe(409);
  });
});
