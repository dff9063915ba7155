/**
 * A web-test-runner plugin serving the TypeScript of `src/` and `test/` under `rootDir` compiled by esbuild;
 * `test/**\/*.bundle.test.ts` files are served bundled with their dependencies (for CommonJS packages such as React).
 */
export declare function esbuildTypeScript(options?: { rootDir?: string }): object;
