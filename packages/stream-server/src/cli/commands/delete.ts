import { UsageError, type CliCommand } from '../command.js';
import { connectToServer, SERVER_OPTION } from '../server-client.js';

/** `delete`: removes videos (their sources and HLS) from a running server. */
export const deleteCommand: CliCommand = {
  name: 'delete',
  args: '<video-id>…',
  summary: 'Delete videos, their sources and their HLS, from a running server',
  options: { server: SERVER_OPTION },
  async run({ values, positionals }, { env, stdout }) {
    if (positionals.length === 0) throw new UsageError('delete needs at least one video id');
    const { manage, api } = await connectToServer(env, values['server'] as string | undefined);
    for (const id of positionals) {
      await api(() => manage.deleteVideo(id));
      stdout.write(`deleted ${id}\n`);
    }
    return 0;
  },
};
