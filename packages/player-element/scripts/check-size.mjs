// Fails the build when <notetaker-player> with its control bar grows past its budget, and prints the figure.
//
// The element is bundled as a page would bundle it, with code splitting: what loads lazily through `import()` (hls.js,
// which is left out of the figure altogether, and the owner-only `show-heatmap` strip) goes into chunks of its own.
// The budget covers what every page loads up front: the entry chunk and the chunks it imports statically. The lazy
// chunks' total is printed beside it.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The element with its controls (the `./define` entry), loaded up front, without hls.js. */
const BUDGET_BYTES = 22 * 1024;
const entry = fileURLToPath(new URL('../dist/define.js', import.meta.url));

/** Bytes of `entry` bundled with splitting, min + gzip -9: `{ upfront, lazy }`, each `{ minified, gzipped }`. */
export async function playerSize(entry) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    splitting: true,
    outdir: 'size-check',
    minify: true,
    format: 'esm',
    target: 'es2022',
    conditions: ['production'],
    external: ['hls.js'],
    write: false,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const files = new Map(result.outputFiles.map((file) => [file.path, file.contents]));
  const outputs = result.metafile.outputs;
  const absolute = (name) => path.join(root, name);
  // The entry chunk and, transitively, the chunks it imports statically.
  const upfront = new Set();
  const visit = (name) => {
    if (upfront.has(name)) return;
    upfront.add(name);
    for (const imported of outputs[name].imports) {
      if (imported.kind === 'import-statement' && !imported.external) visit(imported.path);
    }
  };
  visit(Object.keys(outputs).find((name) => outputs[name].entryPoint && name.endsWith('.js')));
  const sum = (names) => {
    const chunks = names.map((name) => files.get(absolute(name)));
    return {
      minified: chunks.reduce((total, code) => total + code.length, 0),
      gzipped: chunks.reduce((total, code) => total + gzipSync(code, { level: 9 }).length, 0),
    };
  };
  const js = Object.keys(outputs).filter((name) => name.endsWith('.js'));
  return {
    upfront: sum(js.filter((name) => upfront.has(name))),
    lazy: sum(js.filter((name) => !upfront.has(name))),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { upfront, lazy } = await playerSize(entry);
  const line =
    `<notetaker-player> with its controls, without hls.js: ${upfront.minified} B minified, ` +
    `${upfront.gzipped} B min+gzip loaded up front (budget ${BUDGET_BYTES} B); ` +
    `lazy chunks (heatmap, chapters parser) ${lazy.minified} B minified, ${lazy.gzipped} B min+gzip`;
  if (upfront.gzipped > BUDGET_BYTES) {
    console.error(`${line}: over budget`);
    process.exit(1);
  }
  console.log(line);
}
