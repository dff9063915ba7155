// The mocha globals @web/test-runner provides in the browser.
interface MochaContext {
  timeout(ms: number): void;
}
declare function describe(name: string, body: () => void): void;
declare function it(name: string, body: (this: MochaContext) => Promise<void> | void): void;
declare function before(body: (this: MochaContext) => Promise<void> | void): void;
declare function after(body: (this: MochaContext) => Promise<void> | void): void;
declare function beforeEach(body: (this: MochaContext) => Promise<void> | void): void;
declare function afterEach(body: (this: MochaContext) => Promise<void> | void): void;
declare module 'axe-core/axe.min.js';
