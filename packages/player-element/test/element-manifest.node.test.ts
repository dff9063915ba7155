// The custom elements manifest the build makes (custom-elements.json): what it declares, that the package points at
// and ships it, and that the reference's parts and custom-properties tables are the manifest's.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'));

interface Declaration {
  tagName?: string;
  attributes?: Array<{ name: string }>;
  events?: Array<{ name: string }>;
  cssParts?: Array<{ name: string }>;
  cssProperties?: Array<{ name: string }>;
}
interface Manifest {
  modules: Array<{
    path: string;
    declarations?: Declaration[];
    exports?: Array<{ kind: string; name: string }>;
  }>;
}

describe('custom-elements.json', () => {
  const manifest = read('custom-elements.json') as Manifest;
  const element = manifest.modules.flatMap((module) => module.declarations ?? []).find((d) => d.tagName)!;

  it('declares <notetaker-player> with its attributes, events, parts and custom properties', () => {
    expect(element.tagName).toBe('notetaker-player');
    expect(element.attributes?.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'video-id',
        'api-base',
        'token',
        'prefer-playback',
        'controls',
        'default-captions',
      ]),
    );
    expect(element.events?.map((e) => e.name)).toEqual(['notetaker-status', 'notetaker-error', 'error']);
    expect(element.cssParts?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['video', 'controls', 'seek-bar']),
    );
    expect(element.cssProperties?.length).toBeGreaterThanOrEqual(15);
    const definitions = manifest.modules
      .flatMap((m) => m.exports ?? [])
      .filter((e) => e.kind === 'custom-element-definition');
    expect(definitions.map((d) => d.name)).toEqual(['notetaker-player']);
  });

  it('names only modules the package ships', () => {
    for (const module of manifest.modules) {
      expect(module.path).toMatch(/^dist\/.*\.js$/);
      expect(existsSync(new URL(`../${module.path}`, import.meta.url))).toBe(true);
    }
  });

  it('is referenced by "customElements" and listed by npm pack', async () => {
    const pkg = read('package.json') as { customElements: string };
    expect(pkg.customElements).toBe('custom-elements.json');
    const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const [packed] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = packed!.files.map((file) => file.path);
    expect(files).toContain('custom-elements.json');
    expect(files).toContain('dist/jsx-react.d.ts');
    expect(files).toContain('dist/jsx-vue.d.ts');
  });

  it('is what the reference lists as CSS parts and custom properties', async () => {
    await expect(
      exec(process.execPath, ['scripts/element-docs.mjs', '--check'], { cwd: root }),
    ).resolves.toBeDefined();
  });
});
