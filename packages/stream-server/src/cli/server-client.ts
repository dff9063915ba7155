import path from 'node:path';

import { createManagementClient, isStreamError, type ManagementClient } from '@notetaker/client-sdk/server';

import { loadConfig, type Config } from '../config/load-config.js';
import { readStoredSecrets } from '../config/secrets.js';
import { UsageError, type CommandOption } from './command.js';

/** The `--server` option of the commands that talk to a running server. */
export const SERVER_OPTION: CommandOption = {
  type: 'string',
  value: '<url>',
  description: 'The server (default: PUBLIC_URL, else http://HOST:PORT from the environment)',
};

/** A management client for a running server, and `api`, which words a failed call for a person at a terminal. */
export interface ServerClient {
  manage: ManagementClient;
  base: string;
  api<T>(call: () => Promise<T>): Promise<T>;
}

function serverUrl(config: Config, given: string | undefined): string {
  if (given) return given.replace(/\/+$/, '');
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host}:${config.port}`;
}

/**
 * The service key: `SERVICE_API_KEY`, else the one the server keeps in `DATA_DIR/secrets.json`. Never creates that
 * file — a key made here would be one the server does not know — and says what it needs instead.
 */
async function serviceApiKey(config: Config): Promise<string> {
  if (config.auth.serviceApiKey) return config.auth.serviceApiKey;
  const stored = await readStoredSecrets(config.dataDir);
  if (stored?.serviceApiKey) return stored.serviceApiKey;
  const where = path.relative(process.cwd(), config.dataDir) || '.';
  throw new UsageError(
    `no service API key: set SERVICE_API_KEY to the server's, or DATA_DIR to the server's data folder ` +
      `(${path.join(where, 'secrets.json')} does not exist; the server writes it on its first start)`,
  );
}

/** Connects the CLI to the running server named by `--server` or the configuration. */
export async function connectToServer(
  env: NodeJS.ProcessEnv,
  server: string | undefined,
): Promise<ServerClient> {
  const config = loadConfig(env);
  const base = serverUrl(config, server);
  const manage = createManagementClient({ baseUrl: base, apiKey: await serviceApiKey(config) });
  const api = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (!isStreamError(error)) throw error;
      if (error.name === 'StreamNetworkError') {
        throw new Error(`cannot reach the server at ${base} (is \`npm start\` running?): ${causeOf(error)}`);
      }
      throw new Error(`the server refused: ${error.message}`);
    }
  };
  return { manage, base, api };
}

/** What a network error came from: `fetch failed (ECONNREFUSED)` rather than the SDK's generic wording. */
export function causeOf(error: Error): string {
  const cause = error.cause as (Error & { cause?: { code?: string } }) | undefined;
  if (!cause) return error.message;
  const code = cause.cause?.code;
  return code && !cause.message.includes(code) ? `${cause.message} (${code})` : cause.message;
}
