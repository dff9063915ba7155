/**
 * Formats seconds as a clock: `m:ss`, or `h:mm:ss` from an hour on. Anything not finite shows as `0:00`.
 *
 * @example
 * formatTime(75); // '1:15'
 * formatTime(3723); // '1:02:03'
 */
export function formatTime(seconds: number): string {
  const total = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  const hours = Math.floor(total / 3600);
  const mmss = `${Math.floor(total / 60) % 60}:${String(total % 60).padStart(2, '0')}`;
  return hours ? `${hours}:${mmss.padStart(5, '0')}` : mmss;
}

/**
 * Words for a screen reader's `aria-valuetext`.
 *
 * @example
 * spokenTime(75); // '1 minute 15 seconds'
 */
export function spokenTime(seconds: number): string {
  const total = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  const parts: [number, string][] = [
    [Math.floor(total / 3600), 'hour'],
    [Math.floor(total / 60) % 60, 'minute'],
    [total % 60, 'second'],
  ];
  return (
    parts
      .filter(([count]) => count)
      .map(([count, unit]) => `${count} ${unit}${count === 1 ? '' : 's'}`)
      .join(' ') || '0 seconds'
  );
}
