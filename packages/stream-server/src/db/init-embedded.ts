// Creates a fresh PGlite data folder (initdb) and exits: run as a child process by createDatabase, so the memory
// initdb grows PGlite's WebAssembly heap to (~800 MB) is given back to the system with the child, and the server's
// own PGlite opens an existing folder (~150 MB). Usage: node init-embedded.js <data-dir>
import { PGlite } from '@electric-sql/pglite';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: init-embedded <data-dir>\n');
  process.exit(2);
}
try {
  const db = await PGlite.create(dataDir);
  await db.close();
} catch (error) {
  const errno = (error as { errno?: unknown } | null)?.errno;
  process.stderr.write(
    `${error instanceof Error && error.message ? error.message : JSON.stringify(error)}${typeof errno === 'number' ? ` (errno ${errno})` : ''}\n`,
  );
  process.exit(1);
}
