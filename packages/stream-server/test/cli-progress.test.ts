import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createProgressBar, formatBytes } from '../src/cli/progress-bar.js';
import { videoLikeBytes } from './helpers/media.js';
import { createTestDatabase, startTestServer, type TestServer } from './helpers/test-server.js';

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** A terminal stand-in that records what is written. */
function fakeTerminal(columns = 80) {
  const writes: string[] = [];
  return { writes, stream: { columns, write: (text: string) => writes.push(text) } };
}

describe('the progress bar', () => {
  it('draws label, bar, percentage, bytes and rate in place, and ends the line when finished', () => {
    let now = 0;
    const terminal = fakeTerminal();
    const bar = createProgressBar({
      stream: terminal.stream,
      total: 2_000_000,
      label: 'talk.mp4',
      now: () => now,
    });
    now = 500;
    bar.update(1_000_000);
    now = 1000;
    bar.update(2_000_000);
    bar.finish();
    expect(terminal.writes[0]).toMatch(/^\rtalk\.mp4 \[#+-+\]  50% 1\.0 MB\/2\.0 MB 2\.0 MB\/s\x1b\[K$/);
    expect(terminal.writes).toContain('\n');
    expect(terminal.writes.at(-1)).toBe('\n');
    expect(terminal.writes.at(-2)).toMatch(/\[#+\] 100% 2\.0 MB\/2\.0 MB/);
  });

  it('redraws at most once per interval, but always at 100 %', () => {
    let now = 0;
    const terminal = fakeTerminal();
    const bar = createProgressBar({
      stream: terminal.stream,
      total: 100,
      label: 'a',
      intervalMs: 100,
      now: () => now,
    });
    for (let bytes = 1; bytes < 100; bytes += 1) {
      now = bytes; // 99 updates within 99 ms
      bar.update(bytes);
    }
    expect(terminal.writes).toHaveLength(1);
    bar.update(100);
    expect(terminal.writes).toHaveLength(2);
    expect(terminal.writes[1]).toContain('100%');
  });

  it('fits narrow terminals and long names', () => {
    const terminal = fakeTerminal(40);
    const bar = createProgressBar({
      stream: terminal.stream,
      total: 10,
      label: 'a-very-long-file-name-from-a-camera.mp4',
    });
    bar.finish();
    const line = terminal.writes[0]!.replace('\r', '').replace('\x1b[K', '');
    expect(line.length).toBeLessThanOrEqual(39);
    expect(line).toMatch(/^a-very-long-file-name-f… \[/);
  });

  it('formats sizes in decimal units', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1500)).toBe('1.5 kB');
    expect(formatBytes(12_345_678)).toBe('12.3 MB');
  });
});

describe('notetaker-stream import', () => {
  let server: TestServer;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: string;
  let file: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-cli-progress-'));
    // Three 5 MiB parts, so progress is reported part by part as well as while each part streams.
    file = path.join(dir, 'big.bin');
    await fs.writeFile(file, videoLikeBytes(11 * 1024 * 1024));
    database = await createTestDatabase();
    server = await startTestServer('embedded', {
      DATABASE_URL: database.url,
      MULTIPART_THRESHOLD_BYTES: '1',
      MULTIPART_PART_BYTES: String(5 * 1024 * 1024),
    });
    env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      DATA_DIR: path.join(dir, 'cli-data'),
      SERVICE_API_KEY: server.serviceApiKey,
    };
  });

  afterAll(async () => {
    await server?.close();
    await database?.drop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('prints only the video as JSON on stdout and nothing on stderr when piped', async () => {
    const { stdout, stderr } = await exec(
      process.execPath,
      [CLI, 'import', file, '--owner', 'gina', '--server', server.url],
      {
        env,
      },
    );
    expect(stderr).toBe('');
    const video = JSON.parse(stdout) as Record<string, unknown>;
    expect(video).toMatchObject({
      owner_id: 'gina',
      upload_status: 'complete',
      size_bytes: 11 * 1024 * 1024,
    });
  });

  it('shows a progress bar on a terminal', async () => {
    // `script` runs the command on a pseudo-terminal, as an interactive shell would.
    const command = [process.execPath, CLI, 'import', file, '--owner', 'gina', '--server', server.url]
      .map((arg) => `'${arg.replace(/'/g, "'\\''")}'`)
      .join(' ');
    const { stdout } = await exec('script', ['-q', '-e', '-c', command, '/dev/null'], { env });
    expect(stdout).toMatch(/\rbig\.bin \[#+\] 100% 11\.5 MB\/11\.5 MB/);
    const json = stdout.split(/\r?\n/).find((line) => line.startsWith('{'));
    expect(JSON.parse(json!)).toMatchObject({ owner_id: 'gina', upload_status: 'complete' });
  });
});
