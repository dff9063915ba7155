// Copies the player's documentation (docs/player at the repository root) into the package as docs/, so the
// published package carries it and its README can link to it with absolute URLs that work on the npm page
// (unpkg serves every file of a published package). The copy is made at build time and not committed. A build
// without the repository's docs/ (the container image's, whose build context leaves docs out) has nothing to copy
// and publishes nothing, so it goes on without them.
import { cpSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.resolve(packageDir, '../../docs/player');
const target = path.join(packageDir, 'docs');

rmSync(target, { recursive: true, force: true });
if (existsSync(source)) cpSync(source, target, { recursive: true });
else console.log(`copy-docs: ${source} is not here; the package is built without its docs/`);
