import type { Engine } from './engines.js';

/** A page in one engine, driven from Node. */
export interface EnginePage {
  readonly engine: Engine;
  readonly name: string;
  goto(url: string): Promise<void>;
  /** Runs `fn(arg)` in the page (no closures over Node values) and resolves with its JSON-able result. */
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  /** Polls `fn(arg)` in the page until it is truthy; throws after `timeoutMs` naming `message`. */
  waitFor<A, R>(
    fn: (arg: A) => R | Promise<R>,
    arg?: A,
    options?: { timeoutMs?: number; message?: string; intervalMs?: number },
  ): Promise<R>;
  /** Closes the browser. */
  close(): Promise<void>;
}
/** Opens a browser of `engine` with one page. */
export declare function openEnginePage(
  engine: Engine,
  options?: { width?: number; height?: number },
): Promise<EnginePage>;
