import { loadConfig } from '../../config/load-config.js';
import type { CliCommand } from '../command.js';

/** `migrate`: brings the database schema up to date. */
export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'Bring the database schema up to date',
  async run(_args, { env, stdout }) {
    const config = loadConfig(env);
    const { createDatabase, migrateToLatest } = await import('../../db/create-database.js');
    const database = await createDatabase(config.database);
    try {
      const applied = await migrateToLatest(database.db);
      stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Already up to date\n');
    } finally {
      await database.close();
    }
    return 0;
  },
};
