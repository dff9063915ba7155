// Serves the package's TypeScript sources (src/ and test/) to the browser, compiled by esbuild.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { transform } from 'esbuild';

export function esbuildTypeScript({ rootDir = process.cwd() } = {}) {
  // Only sources: `.ts` elsewhere (e.g. MPEG-TS segments of HLS fixtures) is served untouched.
  const isSource = (urlPath) => /^\/(src|test)\/.*\.ts$/.test(urlPath);
  return {
    name: 'esbuild-typescript',
    resolveMimeType(context) {
      if (isSource(context.path)) return 'js';
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
