// Minifies the shadow stylesheet in the built `dist/player-styles.js` (the `css` template literal, which the TypeScript
// build copies verbatim with its indentation) with esbuild's CSS minifier, so bundles ship it compact.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const file = fileURLToPath(new URL('../dist/player-styles.js', import.meta.url));
const source = await readFile(file, 'utf8');
const match = /css ?`([^`$\\]*)`/.exec(source);
if (!match) throw new Error(`${file}: no css\`…\` literal without interpolations found`);
const { code } = await transform(match[1], {
  loader: 'css',
  minify: true,
  charset: 'utf8',
  logLevel: 'error',
});
const minified = code.trim();
if (/[`$\\]/.test(minified))
  throw new Error(`${file}: the minified stylesheet cannot go into a template literal`);
await writeFile(file, source.replace(match[0], `css\`${minified}\``));
