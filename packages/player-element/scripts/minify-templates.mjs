// Minifies the Lit templates in the built dist/ files, which the TypeScript build copies verbatim with their
// indentation: the `css` stylesheet goes through esbuild's CSS minifier, and the indentation after each line break
// of an `html` template's markup is dropped (whitespace it stays, so the markup renders the same, and line numbers
// stay as the source maps give them). Bundles of the element then ship them compact.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import ts from 'typescript';

const dist = fileURLToPath(new URL('../dist', import.meta.url));

/** The literal parts of a tagged template: [start, end) of the text between its backticks and `${…}`s. */
function literalRanges(template) {
  const parts = ts.isNoSubstitutionTemplateLiteral(template)
    ? [template]
    : [template.head, ...template.templateSpans.map((span) => span.literal)];
  return parts.map((part) => {
    const start = part.getStart() + 1;
    const closing = ts.isTemplateTail(part) || ts.isNoSubstitutionTemplateLiteral(part) ? 1 : 2;
    return [start, part.end - closing];
  });
}

async function minifyCss(text) {
  const { code } = await transform(text, { loader: 'css', minify: true, charset: 'utf8', logLevel: 'error' });
  const minified = code.trim();
  if (/[`$\\]/.test(minified)) throw new Error('a minified stylesheet cannot go into a template literal');
  return minified;
}

async function minifyFile(file) {
  const source = await readFile(file, 'utf8');
  if (!/\b(html|css) ?`/.test(source)) return;
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  /** [start, end, replacement], in source order. */
  const edits = [];
  const pending = [];
  const visit = (node) => {
    if (ts.isTaggedTemplateExpression(node) && ts.isIdentifier(node.tag)) {
      const ranges = literalRanges(node.template);
      if (node.tag.text === 'css' && ranges.length === 1) {
        const [start, end] = ranges[0];
        pending.push(minifyCss(source.slice(start, end)).then((css) => edits.push([start, end, css])));
      } else if (node.tag.text === 'html') {
        for (const [start, end] of ranges) {
          edits.push([start, end, source.slice(start, end).replace(/\n[ \t]+/g, '\n')]);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  await Promise.all(pending);
  let output = source;
  for (const [start, end, text] of edits.sort((a, b) => b[0] - a[0])) {
    output = output.slice(0, start) + text + output.slice(end);
  }
  if (output !== source) await writeFile(file, output);
}

const files = (await readdir(dist, { recursive: true })).filter((name) => name.endsWith('.js'));
await Promise.all(files.map((name) => minifyFile(path.join(dist, name))));
