import fs from 'node:fs/promises';
import path from 'node:path';

import { isStreamError } from '@notetaker/client-sdk/server';

import { UsageError, type CliCommand } from '../command.js';
import { createProgressBar } from '../progress-bar.js';
import { connectToServer, SERVER_OPTION } from '../server-client.js';
import { uploadFile } from '../upload-file.js';

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.m4a': 'audio/mp4',
  '.mp3': 'audio/mpeg',
};

function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The size of `file`, or a `UsageError` that says what is wrong with the path: missing, a folder, unreadable. */
export async function readableFileSize(file: string): Promise<number> {
  const stat = await fs.stat(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') throw new UsageError(`no such file: ${file}`);
    if (error.code === 'EACCES') throw new UsageError(`cannot read ${file}: permission denied`);
    throw error;
  });
  if (stat.isDirectory()) throw new UsageError(`${file} is a directory: import takes one video file`);
  if (!stat.isFile()) throw new UsageError(`${file} is not a regular file`);
  const handle = await fs.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EACCES' || error.code === 'EPERM') {
      throw new UsageError(`cannot read ${file}: permission denied`);
    }
    throw error;
  });
  await handle.close();
  return stat.size;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `import`: uploads a file to a running server and registers it; with `--wait`, waits until it plays or fails. */
export const importCommand: CliCommand = {
  name: 'import',
  args: '<file>',
  summary: 'Upload a video file to a running server and register it; prints the video as JSON',
  details:
    'A progress bar goes to stderr when it is a terminal; stdout stays one JSON document.\n' +
    'With --wait, it then waits for the video to be ready to play (its HLS generated) and prints it again;\n' +
    'it exits 1 if the generation fails.',
  options: {
    owner: { type: 'string', value: '<user-id>', description: 'The user who owns the video (required)' },
    title: { type: 'string', value: '<title>', description: 'Its title (default: the file name)' },
    wait: { type: 'boolean', description: 'Wait until the video is ready to play, or failed' },
    server: SERVER_OPTION,
  },
  async run({ values, positionals }, { env, stdout, stderr }) {
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError('import needs exactly one file');
    const owner = values['owner'] as string | undefined;
    if (!owner) throw new UsageError('import needs --owner <user-id>');
    const size = await readableFileSize(file);
    const { manage, api } = await connectToServer(env, values['server'] as string | undefined);
    const bar = stderr.isTTY
      ? createProgressBar({ stream: stderr, total: size, label: path.basename(file) })
      : undefined;
    let video;
    try {
      // The SDK's resumable uploader: parallel parts, retries, and a resume after a lost network.
      video = await uploadFile({
        manage,
        filePath: file,
        register: {
          owner_id: owner,
          title: (values['title'] as string | undefined) ?? path.basename(file),
          content_type: contentTypeOf(file),
        },
        onProgress: (bytes) => bar?.update(bytes),
      });
    } catch (error) {
      // What is left after the uploader's retries is final, from the server (worded by api) or from storage.
      if (!isStreamError(error) || error.name === 'StreamNetworkError')
        return api(() => Promise.reject(error));
      throw new Error(`upload refused: HTTP ${error.status} ${error.code}: ${error.message}`);
    }
    bar?.finish();
    const id = video.id;
    if (!values['wait']) {
      stdout.write(`${JSON.stringify(video)}\n`);
      return 0;
    }
    // Start the generation once, then watch the video's state: asking for generation again would restart a
    // failed one.
    const started = await api(() => manage.generateStream(id));
    let current = video;
    let delay = started.status === 'generating' ? started.retry_after : 0;
    while (current.hls_status !== 'ready' && current.hls_status !== 'failed') {
      await sleep(Math.min(5, Math.max(0.25, delay)) * 1000);
      delay = 1;
      const found = (await api(() => manage.listVideos(owner))).find((v) => v.id === id);
      if (!found) throw new Error(`video ${id} disappeared while waiting for it`);
      current = found;
    }
    stdout.write(`${JSON.stringify(current)}\n`);
    if (current.hls_status === 'failed') {
      stderr.write(
        `notetaker-stream: the video could not be prepared: ${current.hls_error_message ?? 'unknown error'}\n`,
      );
      return 1;
    }
    return 0;
  },
};
