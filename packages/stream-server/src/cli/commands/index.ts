import type { CliCommand } from '../command.js';
import { deleteCommand } from './delete.js';
import { importCommand } from './import.js';
import { listCommand } from './list.js';
import { migrateCommand } from './migrate.js';
import { retryCommand } from './retry.js';
import { createServeCommands, type StartServer } from './serve.js';
import { tokenCommand } from './token.js';

export type { StartServer };

/**
 * The command table of `notetaker-stream`, in the order `help` lists it. A new command is one more entry here (its
 * `--help` comes from its own fields). `loadStartServer` gives `serve` and `worker` the entry layer's server.
 */
export function createCommands(loadStartServer: () => Promise<StartServer>): CliCommand[] {
  return [
    ...createServeCommands(loadStartServer),
    migrateCommand,
    importCommand,
    listCommand,
    deleteCommand,
    retryCommand,
    tokenCommand,
  ];
}
