/** Where a progress bar draws: a terminal (`process.stderr` when it is a TTY). */
export interface ProgressStream {
  write(text: string): unknown;
  /** Terminal width; 80 when unknown (or 0). */
  columns?: number | undefined;
}

export interface ProgressBar {
  /** Reports the bytes done so far; redraws at most every `intervalMs` (and always at 100 %). */
  update(doneBytes: number): void;
  /** Draws the final state and ends the line. Idempotent. */
  finish(): void;
}

/** `12.3 MB` (decimal units, as file managers show sizes). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * A one-line progress bar for a terminal: label, bar, percentage, bytes and rate, redrawn in place with `\r`.
 * Only draw one where a person watches (a TTY); piped output stays machine-readable.
 *
 * @example
 * const bar = process.stderr.isTTY ? createProgressBar({ stream: process.stderr, total: size, label: 'talk.mp4' }) : undefined;
 * await uploadFile(file, size, upload, (bytes) => bar?.update(bytes));
 * bar?.finish();
 */
export function createProgressBar(options: {
  stream: ProgressStream;
  total: number;
  label: string;
  intervalMs?: number;
  now?: () => number;
}): ProgressBar {
  const now = options.now ?? (() => performance.now());
  const interval = options.intervalMs ?? 100;
  const started = now();
  let lastDraw = -Infinity;
  let done = 0;
  let finished = false;

  const draw = () => {
    const total = Math.max(options.total, 0);
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const stats = ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(done / seconds)}/s`;
    // A pseudo-terminal without a size reports 0 columns.
    const columns = options.stream.columns || 80;
    const label = options.label.length > 24 ? `${options.label.slice(0, 23)}…` : options.label;
    const width = Math.max(10, Math.min(40, columns - label.length - stats.length - 4));
    const filled = Math.round(fraction * width);
    const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${stats}`;
    // `\x1b[K` clears what a longer previous line left behind.
    options.stream.write(`\r${line.slice(0, Math.max(columns - 1, 20))}\x1b[K`);
    lastDraw = now();
  };

  return {
    update(doneBytes) {
      if (finished) return;
      done = Math.max(done, doneBytes);
      if (done >= options.total || now() - lastDraw >= interval) draw();
    },
    finish() {
      if (finished) return;
      draw();
      options.stream.write('\n');
      finished = true;
    },
  };
}
