import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares a presented service API key with the configured one in constant time. */
export function serviceKeyMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
