// Copies the player's documentation (docs/player at the repository root) into the package as docs/, so the
// published package carries it and its README can link to it with absolute URLs that work on the npm page
// (unpkg serves every file of a published package). The copy is made at build time and not committed.
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.resolve(packageDir, '../../docs/player');
const target = path.join(packageDir, 'docs');

rmSync(target, { recursive: true, force: true });
cpSync(source, target, { recursive: true });
