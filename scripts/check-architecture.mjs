#!/usr/bin/env node
// The architecture rule, checked on every test run (docs/architecture.md):
//   1. workspace packages depend on each other in one direction (no cycle, nothing on a package above it);
//   2. inside the server, an import never points up a layer:
//        entry (cli.ts, index.ts, server/) → transport (http/, cli/) → services → adapters and repositories
//        (db/, storage/, media/) → foundations (config/, observability/, support/)
//      and a service folder never imports another service folder that imports it back;
//      and no service, adapter, setting or error code imports the web framework (HTTP belongs to src/http);
//   3. no import cycle between source files of any package.
// Imports are read with TypeScript's own pre-processor (no type checking), so the check takes a second.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];

// ---- 1. packages ---------------------------------------------------------------------------------------------
/** Which workspace may depend on which: each one only on those listed (directly or through its devDependencies). */
const ALLOWED_PACKAGE_DEPENDENCIES = {
  '@notetaker/test-support': [],
  '@notetaker/client-sdk': [],
  '@notetaker/player-element': ['@notetaker/client-sdk'],
  '@notetaker/stream-server': ['@notetaker/client-sdk'],
  '@notetaker/web': ['@notetaker/client-sdk', '@notetaker/player-element'],
  '@notetaker/integration-tests': [
    '@notetaker/client-sdk',
    '@notetaker/player-element',
    '@notetaker/stream-server',
    '@notetaker/web',
  ],
};

/** Shared test support (Chromium flags, test media, browser helpers): any workspace may dev-depend on it. */
const TEST_SUPPORT = '@notetaker/test-support';

const rootPackage = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const workspaces = rootPackage.workspaces.map((dir) => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
  return { dir, manifest };
});
const workspaceNames = new Set(workspaces.map((w) => w.manifest.name));
for (const { dir, manifest } of workspaces) {
  const allowed = ALLOWED_PACKAGE_DEPENDENCIES[manifest.name];
  if (!allowed) {
    problems.push(
      `${dir}: workspace ${manifest.name} has no place in ALLOWED_PACKAGE_DEPENDENCIES (scripts/check-architecture.mjs)`,
    );
    continue;
  }
  const deps = { ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies };
  for (const name of Object.keys(deps)) {
    const devOnlyTestSupport =
      name === TEST_SUPPORT && !manifest.dependencies?.[name] && !manifest.peerDependencies?.[name];
    if (workspaceNames.has(name) && !allowed.includes(name) && !devOnlyTestSupport) {
      problems.push(
        `${dir}/package.json: ${manifest.name} must not depend on ${name} (allowed: ${allowed.join(', ') || 'none'})`,
      );
    }
  }
}

// ---- imports of every source file --------------------------------------------------------------------------------
const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;
function listSources(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === 'dist' ? [] : listSources(full);
    return SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every import specifier of a file (relative paths and packages). */
function importSpecifiers(file) {
  const text = fs.readFileSync(file, 'utf8');
  return ts.preProcessFile(text, true, true).importedFiles.map((imported) => imported.fileName);
}

/** Relative imports of a file, resolved to files (`./x.js` → `./x.ts`). */
function localImports(file) {
  return importSpecifiers(file)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolveImport(file, spec))
    .filter((resolved) => resolved !== undefined);
}

function resolveImport(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  const stem = base.replace(/\.(js|mjs|ts)$/, '');
  for (const candidate of [
    base,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${stem}.js`,
    `${stem}.mjs`,
    path.join(base, 'index.ts'),
  ]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

const rel = (file) => path.relative(root, file);

// ---- 2. layers inside the server --------------------------------------------------------------------------------
const serverSrc = path.join(root, 'packages/stream-server/src');
/** Folder (or top-level file) of `src/` → its layer; higher layers may import lower ones, never the reverse. */
const LAYERS = [
  { name: 'foundations', rank: 0, folders: ['config', 'errors', 'observability'] },
  { name: 'adapters and repositories', rank: 1, folders: ['db', 'storage', 'media'] },
  {
    name: 'services',
    rank: 2,
    folders: [
      'auth',
      'videos',
      'captions',
      'chapters',
      'analytics',
      'jobs',
      'generation',
      'tasks',
      'webhooks',
      'playback',
    ],
  },
  { name: 'transport', rank: 3, folders: ['http', 'cli'] },
  { name: 'entry', rank: 4, folders: ['server', 'cli.ts', 'index.ts'] },
];
const layerOf = (file) => {
  const top = path.relative(serverSrc, file).split(path.sep)[0];
  return { top, layer: LAYERS.find((layer) => layer.folders.includes(top)) };
};

const serverFiles = listSources(serverSrc);
const folderEdges = new Map();
for (const file of serverFiles) {
  const from = layerOf(file);
  if (!from.layer) {
    problems.push(`${rel(file)}: src/${from.top} has no layer in scripts/check-architecture.mjs`);
    continue;
  }
  // HTTP is the transport's business: services, adapters and the error codes never import the web framework.
  if ((from.layer.rank >= 1 && from.layer.rank <= 2) || from.top === 'errors' || from.top === 'config') {
    for (const spec of importSpecifiers(file)) {
      if (spec === 'hono' || spec.startsWith('hono/') || spec.startsWith('@hono/')) {
        problems.push(`${rel(file)} (${from.layer.name}) imports ${spec}: HTTP belongs to src/http`);
      }
    }
  }
  for (const target of localImports(file)) {
    if (!target.startsWith(serverSrc + path.sep)) {
      problems.push(`${rel(file)} imports ${rel(target)}, outside the server's src/`);
      continue;
    }
    const to = layerOf(target);
    if (!to.layer) continue;
    if (to.layer.rank > from.layer.rank) {
      problems.push(
        `${rel(file)} (${from.layer.name}) imports ${rel(target)} (${to.layer.name}): an import up a layer`,
      );
    }
    if (to.top !== from.top && to.layer.rank === from.layer.rank) {
      if (!folderEdges.has(from.top)) folderEdges.set(from.top, new Map());
      folderEdges.get(from.top).set(to.top, `${rel(file)} → ${rel(target)}`);
    }
  }
}
for (const [a, targets] of folderEdges) {
  for (const [b, example] of targets) {
    const back = folderEdges.get(b)?.get(a);
    if (back && a < b) problems.push(`src/${a} and src/${b} import each other: ${example}; ${back}`);
  }
}

// ---- 3. file cycles in every package ----------------------------------------------------------------------------
for (const { dir } of workspaces) {
  for (const sub of ['src', 'web/src']) {
    const files = listSources(path.join(root, dir, sub));
    const graph = new Map(files.map((file) => [file, localImports(file)]));
    for (const cycle of findCycles(graph)) {
      problems.push(`import cycle: ${cycle.map(rel).join(' → ')}`);
    }
  }
}

/** One cycle per strongly connected component of more than one file (Tarjan), shown as a path. */
function findCycles(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const cycles = [];
  const visit = (node) => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), indices.get(next)));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) cycles.push(pathThrough(graph, new Set(component), node));
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return cycles;
}

function pathThrough(graph, members, start) {
  // Breadth-first from start back to start inside the component.
  const previous = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const cycle = [start];
        for (let at = node; at !== start; at = previous.get(at)) cycle.splice(1, 0, at);
        return [...cycle, start];
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start];
}

if (problems.length > 0) {
  console.error(`Architecture check: ${problems.length} problem(s) (the rule: docs/architecture.md)`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
console.log(
  `Architecture check: ${workspaces.length} packages and ${serverFiles.length} server modules point one way.`,
);
