// How long starting ffprobe blocks a process as large as the embedded server, spawned directly vs through the
// launcher helper the server uses. Run by bench/run.mjs in a process of its own:
//   node bench/spawn-cost.mjs <stream-server dist folder> <MB to hold>
// Prints one JSON line: the median and the longest time the caller's event loop was blocked per launch (ms).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distDir, heldMb = '800'] = process.argv.slice(2);
const { createProcessLauncher, directLauncher } = await import(
  pathToFileURL(join(distDir, 'media', 'process-launcher.js')).href
);
const FFPROBE = process.env.FFPROBE_PATH ?? 'ffprobe';
const RUNS = 15;

// The helper starts while this process is small, as the server starts it before opening its database.
const helper = createProcessLauncher();
helper.prepare();

// Memory the way the embedded server holds it (PGlite's heap): touched, resident pages.
const held = [];
for (let i = 0; i < Number(heldMb); i++) held.push(Buffer.alloc(1 << 20, i & 0xff));

async function blockedMs(launcher) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const child = launcher.launch(FFPROBE, ['-version']);
    times.push(performance.now() - started);
    await new Promise((resolve, reject) => {
      child.once('close', resolve);
      child.once('error', reject);
      child.stdout.resume();
      child.stderr.resume();
    });
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(RUNS / 2)], max: times[RUNS - 1] };
}

const direct = await blockedMs(directLauncher);
const launched = await blockedMs(helper);
await helper.close();
const round = (ms) => Math.round(ms * 100) / 100;
process.stdout.write(
  `${JSON.stringify({
    rss_mb: Math.round(process.memoryUsage().rss / 1e6),
    direct_median_ms: round(direct.median),
    direct_max_ms: round(direct.max),
    launcher_median_ms: round(launched.median),
    launcher_max_ms: round(launched.max),
  })}\n`,
);
