// The element's source files import in one direction: no file cycles, and the control bar knows the player only
// through the PlayerControlsHost interface.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('../src', import.meta.url));

/** Every `.ts` file under src/ (relative path) with the src files it imports, `import type` and `import()` included. */
function importGraph(): Map<string, string[]> {
  const files = (readdirSync(srcDir, { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.split(path.sep).join('/'));
  const specifiers = /\b(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
  return new Map(
    files.map((file) => {
      const text = readFileSync(path.join(srcDir, file), 'utf8');
      const imports = [...text.matchAll(specifiers)].map((match) =>
        path.posix.join(path.posix.dirname(file), match[1]!.replace(/\.js$/, '.ts')),
      );
      return [file, imports.filter((target) => files.includes(target))];
    }),
  );
}

/** Each cycle as `a.ts -> b.ts -> a.ts`. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    stack.push(file);
    for (const target of graph.get(file)!) {
      const at = stack.indexOf(target);
      if (at >= 0) found.push([...stack.slice(at), target].join(' -> '));
      else if (!done.has(target)) visit(target);
    }
    stack.pop();
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file);
  return found;
}

describe('imports of src/', () => {
  const graph = importGraph();

  it('reads the imports it checks', () => {
    expect(graph.get('notetaker-player.ts')).toContain('controls/control-bar.ts');
    expect(graph.get('controls/control-bar.ts')).toContain('controls/player-controls-host.ts');
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps the control bar, the stream lifecycle and captions free of the element class', () => {
    const offenders = [...graph]
      .filter(([file]) => /^(controls|stream|captions)\//.test(file))
      .filter(([, imports]) => imports.includes('notetaker-player.ts'))
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });
});
