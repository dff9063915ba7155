import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The duration ffprobe reports for an HLS URL (it follows the playlist and reads the segments). */
export async function probeHlsDuration(url: string): Promise<number> {
  const { stdout } = await exec(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', url],
    { timeout: 60_000 },
  );
  const duration = Number((JSON.parse(stdout) as { format?: { duration?: string } }).format?.duration);
  if (!Number.isFinite(duration)) throw new Error(`ffprobe reported no duration for ${url}`);
  return duration;
}

/** The segment URIs of a playlist (every non-comment line). */
export function segmentUris(playlist: string): string[] {
  return playlist
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
