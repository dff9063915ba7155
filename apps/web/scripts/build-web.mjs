// Bundles the web page a stream server serves at `/` (src/ + <notetaker-player> from @notetaker/player-element) into
// dist/: index.html (never cached) and assets/ with content-hashed names (cached for a year). hls.js stays a separate
// chunk that the player loads only when it needs it. The server finds dist/ by itself in a checkout, or through
// WEB_DIR (docs/configuration.md).
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = path.join(root, 'dist');
const assets = path.join(outdir, 'assets');

await rm(outdir, { recursive: true, force: true });
await mkdir(assets, { recursive: true });

const result = await build({
  entryPoints: { app: path.join(root, 'src/main.ts') },
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  conditions: ['production'],
  define: { 'process.env.NODE_ENV': '"production"' },
  outdir: assets,
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
});

const entry = Object.entries(result.metafile.outputs).find(([, output]) => output.entryPoint !== undefined);
if (!entry) throw new Error('esbuild produced no entry point');
const [scriptPath, output] = entry;
if (!output.cssBundle) throw new Error('esbuild produced no stylesheet');
const url = (file) => `/assets/${path.relative(assets, path.resolve(root, file)).split(path.sep).join('/')}`;

const template = await readFile(path.join(root, 'index.html'), 'utf8');
const html = template.replace('%SCRIPT%', url(scriptPath)).replace('%STYLES%', url(output.cssBundle));
await writeFile(path.join(outdir, 'index.html'), html);

// Pre-compressed copies, served to browsers that accept gzip (the hls.js chunk shrinks to about a third).
let raw = 0;
let gzipped = 0;
for (const file of Object.keys(result.metafile.outputs)) {
  if (!/\.(js|css)$/.test(file)) continue;
  const body = await readFile(path.resolve(root, file));
  const gz = gzipSync(body, { level: 9 });
  await writeFile(`${path.resolve(root, file)}.gz`, gz);
  raw += body.length;
  gzipped += gz.length;
}
console.log(
  `web page: ${path.relative(root, outdir)} (${Math.round(raw / 1024)} KiB, ${Math.round(gzipped / 1024)} KiB gzipped)`,
);
