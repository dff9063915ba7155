// A web-test-runner plugin serving a workspace's TypeScript sources (src/ and test/) to the browser, compiled by
// esbuild. Test files named `*.bundle.test.ts` are served bundled with their dependencies (for CommonJS packages such as
// React).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, transform } from 'esbuild';

export function esbuildTypeScript({ rootDir = process.cwd() } = {}) {
  // Only sources: `.ts` elsewhere (e.g. MPEG-TS segments of HLS fixtures) is served untouched.
  const isSource = (urlPath) => /^\/(src|test)\/.*\.ts$/.test(urlPath);
  return {
    name: 'esbuild-typescript',
    resolveMimeType(context) {
      if (isSource(context.path)) return 'js';
    },
    async serve(context) {
      if (!/^\/test\/.*\.bundle\.test\.ts$/.test(context.path)) return undefined;
      const result = await build({
        entryPoints: [path.join(rootDir, context.path)],
        bundle: true,
        format: 'esm',
        target: 'es2022',
        write: false,
        sourcemap: 'inline',
        conditions: ['production'],
        define: { 'process.env.NODE_ENV': '"production"' },
        // Loaded lazily by the element and the helpers: left to the dev server, like in the other tests.
        external: ['hls.js', 'axe-core/*', '@web/test-runner-commands'],
        logLevel: 'silent',
      });
      return { body: result.outputFiles[0].text, type: 'js' };
    },
    resolveImport({ source, context }) {
      if (!source.startsWith('.') || !source.endsWith('.js')) return undefined;
      const dir = path.dirname(path.join(rootDir, context.path));
      const asTs = source.slice(0, -3) + '.ts';
      if (!existsSync(path.resolve(dir, source)) && existsSync(path.resolve(dir, asTs))) return asTs;
      return undefined;
    },
    async transform(context) {
      if (!isSource(context.path)) return undefined;
      const result = await transform(context.body, {
        loader: 'ts',
        format: 'esm',
        target: 'es2022',
        sourcemap: 'inline',
        sourcefile: context.path,
        tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true, useDefineForClassFields: true } },
      });
      return { body: result.code };
    },
  };
}
