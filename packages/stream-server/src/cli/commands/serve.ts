import type { CliCommand } from '../command.js';

/** What `serve` and `worker` start: the entry layer's `startServer`, given by the CLI's entry point. */
export type StartServer = (options: { env: NodeJS.ProcessEnv; api: boolean }) => Promise<{
  url: string;
  worker?: { workerId: string } | null;
  stop(): Promise<void>;
}>;

async function runUntilSignal(
  loadStartServer: () => Promise<StartServer>,
  env: NodeJS.ProcessEnv,
  api: boolean,
  stdout: NodeJS.WritableStream,
): Promise<number> {
  const startServer = await loadStartServer();
  const server = await startServer({ env, api });
  if (api) stdout.write(`Notetaker Stream listening on ${server.url}\n`);
  else stdout.write(`Notetaker Stream worker ${server.worker?.workerId} running\n`);
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      stdout.write(`Received ${signal}: shutting down…\n`);
      server.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}

/**
 * `serve` and `worker`, which run until SIGTERM/SIGINT. The server is loaded only when one of them runs, so that
 * `--help` and the commands that talk to a server start quickly.
 */
export function createServeCommands(loadStartServer: () => Promise<StartServer>): CliCommand[] {
  return [
    {
      name: 'serve',
      summary: 'Run the API (and, by default, a generation worker)',
      options: { 'no-worker': { type: 'boolean', description: 'Run the API without a generation worker' } },
      run: ({ values }, { env, stdout }) => {
        const serveEnv = { ...env };
        if (values['no-worker']) serveEnv['WORKER'] = 'false';
        return runUntilSignal(loadStartServer, serveEnv, true, stdout);
      },
    },
    {
      name: 'worker',
      summary: 'Run a generation worker only',
      run: (_args, { env, stdout }) =>
        runUntilSignal(loadStartServer, { ...env, WORKER: 'true' }, false, stdout),
    },
  ];
}
