/** Exponential backoff with jitter: ~2, 4, 8 … seconds (each between half and all of that), capped at 5 minutes. */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(300, 2 ** Math.max(1, attempt));
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}
