// The published packages as npm would pack them: a LICENSE, real ranges for workspace dependencies, source maps
// whose sources are in the package too, and README links that work on the npm page.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PUBLISHED = ['packages/client-sdk', 'packages/player-element', 'packages/stream-server'];
const WORKSPACES = [...PUBLISHED, 'packages/test-support', 'apps/web', 'tests/integration'];

const manifest = (dir: string) =>
  JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as Record<string, unknown> & {
    name: string;
    license?: string;
  };

describe('packages ready to publish', () => {
  it('has an MIT LICENSE at the root and in every package', () => {
    for (const dir of ['.', ...WORKSPACES.filter((dir) => dir.startsWith('packages/'))]) {
      expect(readFileSync(path.join(root, dir, 'LICENSE'), 'utf8'), dir).toMatch(/^MIT License\n/);
    }
    for (const dir of WORKSPACES) expect(manifest(dir).license, dir).toBe('MIT');
  });

  it('gives workspace dependencies real version ranges, never "*"', () => {
    const names = new Set(WORKSPACES.map((dir) => manifest(dir).name));
    for (const dir of WORKSPACES) {
      const pkg = manifest(dir);
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
        for (const [name, range] of Object.entries((pkg[field] ?? {}) as Record<string, string>)) {
          if (names.has(name)) expect(range, `${dir} ${field} ${name}`).toMatch(/^\^?\d+\.\d+\.\d+$/);
        }
      }
    }
  });

  it.each(PUBLISHED)('%s packs its LICENSE, its README and the sources its source maps name', async (dir) => {
    const files = await packedFiles(dir);
    expect(files.has('LICENSE')).toBe(true);
    expect(files.has('README.md')).toBe(true);
    const maps = [...files].filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(path.join(root, dir, map), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources) {
        const shipped = path.posix.normalize(path.posix.join(path.posix.dirname(map), source));
        expect(files.has(shipped), `${dir}/${map} → ${shipped}`).toBe(true);
        expect(existsSync(path.join(root, dir, shipped))).toBe(true);
      }
    }
  });

  // npm's page has no repository to resolve a relative link against: a README link is absolute, or an anchor of the
  // page itself. Links into the package's own files go through unpkg, which serves every file of a published package.
  it.each(PUBLISHED)('%s has README links that work on the npm page', async (dir) => {
    const readme = readFileSync(path.join(root, dir, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
    const anchors = new Set(
      [...readme.matchAll(/^#+ (.+)$/gm)].map((match) =>
        match[1]!
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    const own = `https://unpkg.com/${manifest(dir).name}/`;
    const files = await packedFiles(dir);
    for (const link of links) {
      if (link.startsWith('#')) expect(anchors.has(link.slice(1)), `${dir}: ${link}`).toBe(true);
      else expect(link, dir).toMatch(/^https:\/\//);
      if (link.startsWith(own)) {
        const file = link.slice(own.length).split('#')[0]!;
        expect(files.has(file), `${dir}: ${link} names a file the package does not ship`).toBe(true);
      }
    }
  });
});

/** The files `npm pack` puts in the package of `dir` (after the build). */
async function packedFiles(dir: string): Promise<Set<string>> {
  const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: path.join(root, dir),
  });
  return new Set(
    (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path),
  );
}
