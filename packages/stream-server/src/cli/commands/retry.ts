import { UsageError, type CliCommand } from '../command.js';
import { connectToServer, SERVER_OPTION } from '../server-client.js';

/** `retry`: restarts the generation of a failed video (an operator's retry). */
export const retryCommand: CliCommand = {
  name: 'retry',
  args: '<video-id>',
  summary: 'Restart generation of a failed video (operator retry); prints the answer as JSON',
  options: { server: SERVER_OPTION },
  async run({ values, positionals }, { env, stdout }) {
    const id = positionals[0];
    if (!id || positionals.length > 1) throw new UsageError('retry needs exactly one video id');
    const { manage, api } = await connectToServer(env, values['server'] as string | undefined);
    const answer = await api(() => manage.retryStream(id));
    stdout.write(`${JSON.stringify(answer)}\n`);
    return 0;
  },
};
