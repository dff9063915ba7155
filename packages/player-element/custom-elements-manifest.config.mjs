// The custom elements manifest (custom-elements.json) is generated from the element's source by
// @custom-elements-manifest/analyzer during the build: IDEs, Storybook and wrapper generators read it, and
// scripts/element-docs.mjs writes the reference's parts and custom-properties tables from it.

/** `src/notetaker-player.ts` or `/src/notetaker-player.js` → `dist/notetaker-player.js`, the file the package ships. */
const shipped = (file) =>
  file
    .replace(/^\//, '')
    .replace(/^src\//, 'dist/')
    .replace(/\.ts$/, '.js');

/** Rewrites every module path to the shipped JavaScript, and names the definition by its tag. */
function shippedModules() {
  const visit = (node, tags) => {
    if (Array.isArray(node)) return node.forEach((item) => visit(item, tags));
    if (!node || typeof node !== 'object') return;
    for (const key of ['path', 'module']) if (typeof node[key] === 'string') node[key] = shipped(node[key]);
    if (node.kind === 'custom-element-definition' && tags.has(node.declaration?.name)) {
      node.name = tags.get(node.declaration.name);
    }
    for (const value of Object.values(node)) visit(value, tags);
  };
  return {
    name: 'notetaker-shipped-modules',
    packageLinkPhase({ customElementsManifest: manifest }) {
      const tags = new Map(
        manifest.modules
          .flatMap((module) => module.declarations ?? [])
          .filter((declaration) => declaration.tagName)
          .map((declaration) => [declaration.name, declaration.tagName]),
      );
      visit(manifest.modules, tags);
    },
  };
}

export default {
  globs: ['src/notetaker-player.ts', 'src/define.ts'],
  outdir: '.',
  litelement: true,
  plugins: [shippedModules()],
};
