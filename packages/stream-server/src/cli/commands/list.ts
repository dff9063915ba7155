import { UsageError, type CliCommand } from '../command.js';
import { connectToServer, SERVER_OPTION } from '../server-client.js';

/** `list`: the videos of one owner, as a table (or JSON with `--json`). */
export const listCommand: CliCommand = {
  name: 'list',
  summary: "List a user's videos on a running server",
  options: {
    owner: { type: 'string', value: '<user-id>', description: 'The owner whose videos to list (required)' },
    json: { type: 'boolean', description: 'Print the videos as one JSON array' },
    server: SERVER_OPTION,
  },
  async run({ values }, { env, stdout }) {
    const owner = values['owner'] as string | undefined;
    if (!owner) throw new UsageError('list needs --owner <user-id>');
    const { manage, api } = await connectToServer(env, values['server'] as string | undefined);
    const videos = await api(() => manage.listVideos(owner));
    if (values['json']) {
      stdout.write(`${JSON.stringify(videos)}\n`);
      return 0;
    }
    const rows = [
      ['ID', 'UPLOAD', 'HLS', 'DURATION', 'TITLE'],
      ...videos.map((video) => [
        video.id,
        video.upload_status,
        video.hls_status ?? '-',
        video.duration_seconds === null ? '-' : `${Math.round(video.duration_seconds)}s`,
        video.title ?? '',
      ]),
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    for (const row of rows) {
      stdout.write(
        `${row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')}\n`,
      );
    }
    return 0;
  },
};
