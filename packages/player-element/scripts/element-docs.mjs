// Writes the CSS parts and custom properties tables of docs/player/reference.md from custom-elements.json (made by the
// build from the element's JSDoc), between `<!-- manifest:… -->` markers. `--check` fails instead when the
// reference is not what the manifest says (the element-docs test runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';

const manifestFile = fileURLToPath(new URL('../custom-elements.json', import.meta.url));
const referenceFile = fileURLToPath(new URL('../../../docs/player/reference.md', import.meta.url));

/** The `<notetaker-player>` declaration of the manifest. */
export function elementDeclaration(manifest) {
  const declaration = manifest.modules
    .flatMap((module) => module.declarations ?? [])
    .find((candidate) => candidate.tagName === 'notetaker-player');
  if (!declaration) throw new Error('custom-elements.json has no <notetaker-player> declaration');
  return declaration;
}

const cell = (text) => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

/** A Markdown table; column widths as Prettier makes them. */
function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(3, ...all.map((row) => row[column].length)));
  const line = (row) => `| ${row.map((text, column) => text.padEnd(widths[column])).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

/** The generated sections, by marker name. */
export function generatedSections(manifest) {
  const element = elementDeclaration(manifest);
  return {
    'css-parts': table(
      ['part', 'element'],
      (element.cssParts ?? []).map((part) => [`\`${part.name}\``, cell(part.description ?? '')]),
    ),
    'css-properties': table(
      ['property', 'what it sets'],
      (element.cssProperties ?? []).map((property) => [
        `\`${property.name}\``,
        cell(property.description ?? ''),
      ]),
    ),
  };
}

/** The reference with each marked section replaced by what the manifest says. */
export function updateReference(reference, sections) {
  let text = reference;
  for (const [name, body] of Object.entries(sections)) {
    const pattern = new RegExp(`(<!-- manifest:${name} -->)[\\s\\S]*?(<!-- /manifest:${name} -->)`);
    if (!pattern.test(text))
      throw new Error(`docs/player/reference.md has no <!-- manifest:${name} --> section`);
    text = text.replace(pattern, (_match, open, close) => `${open}\n${body}\n${close}`);
  }
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const reference = readFileSync(referenceFile, 'utf8');
  // Formatted as the repository formats Markdown, so that the check compares like with like.
  const options = { ...(await resolveConfig(referenceFile)), filepath: referenceFile };
  const updated = await format(updateReference(reference, generatedSections(manifest)), options);
  if (process.argv.includes('--check')) {
    if (updated !== reference) {
      console.error(
        'docs/player/reference.md differs from custom-elements.json: run `npm run docs -w @notetaker/player-element`',
      );
      process.exit(1);
    }
  } else if (updated !== reference) {
    writeFileSync(referenceFile, updated);
    console.log(
      'docs/player/reference.md: CSS parts and custom properties written from custom-elements.json',
    );
  }
}
