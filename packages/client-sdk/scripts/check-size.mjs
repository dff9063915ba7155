// Size budget of the browser entry: bundle + minify src/index.ts, gzip it, fail above the budget.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const BUDGET_BYTES = 3072;
const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  write: false,
  logLevel: 'silent',
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;

console.log(
  `@notetaker/client-sdk browser entry: ${code.length} B minified, ${gzipped} B min+gzip (budget ${BUDGET_BYTES} B)`,
);
if (gzipped > BUDGET_BYTES) {
  console.error(`Size budget exceeded by ${gzipped - BUDGET_BYTES} B`);
  process.exit(1);
}
