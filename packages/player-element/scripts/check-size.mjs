// Fails the build when <notetaker-player> with its control bar (everything but hls.js, which loads lazily) grows past
// its budget, and prints the figure.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

/** The element with its controls (the `./define` entry), without hls.js. */
const BUDGET_BYTES = 23 * 1024;
const entry = fileURLToPath(new URL('../dist/define.js', import.meta.url));

const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  conditions: ['production'],
  external: ['hls.js'],
  write: false,
  logLevel: 'warning',
  legalComments: 'none',
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
const line = `<notetaker-player> with its controls, without hls.js: ${code.length} B minified, ${gzipped} B min+gzip (budget ${BUDGET_BYTES} B)`;
if (gzipped > BUDGET_BYTES) {
  console.error(`${line}: over budget`);
  process.exit(1);
}
console.log(line);
