import { describe, expect, it } from 'vitest';

import { sharedReads } from '../src/db/shared-reads.js';

/** A read whose answers the test gives by hand, in the order the reads started. */
function manualReads() {
  const started: Array<{ key: string; resolve: (value: string) => void; reject: (error: Error) => void }> =
    [];
  const read = (key: string) =>
    new Promise<string>((resolve, reject) => {
      started.push({ key, resolve, reject });
    });
  return { started, read };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('sharedReads', () => {
  it('starts one read for requests that arrive while none runs', async () => {
    const { started, read } = manualReads();
    const shared = sharedReads(read);
    const a = shared('v1');
    await settle();
    expect(started).toHaveLength(1);
    started[0]!.resolve('row 1');
    expect(await a).toBe('row 1');
  });

  it('never answers from a read that started before the request: late arrivals share the next read', async () => {
    const { started, read } = manualReads();
    const shared = sharedReads(read);
    const first = shared('v1');
    await settle();
    // These arrive while the first read runs: they must not get its (possibly older) row.
    const second = shared('v1');
    const third = shared('v1');
    await settle();
    expect(started).toHaveLength(1);
    started[0]!.resolve('before the change');
    expect(await first).toBe('before the change');
    await settle();
    expect(started).toHaveLength(2);
    started[1]!.resolve('after the change');
    expect(await second).toBe('after the change');
    expect(await third).toBe('after the change');
    // Nothing is kept: the next request reads again.
    const fourth = shared('v1');
    await settle();
    expect(started).toHaveLength(3);
    started[2]!.resolve('again');
    expect(await fourth).toBe('again');
  });

  it('keeps keys apart', async () => {
    const { started, read } = manualReads();
    const shared = sharedReads(read);
    const a = shared('v1');
    const b = shared('v2');
    await settle();
    expect(started.map((s) => s.key)).toEqual(['v1', 'v2']);
    started[1]!.resolve('two');
    started[0]!.resolve('one');
    expect([await a, await b]).toEqual(['one', 'two']);
  });

  it('gives a failed read to the requests that shared it, and the waiting ones still get a read of their own', async () => {
    const { started, read } = manualReads();
    const shared = sharedReads(read);
    const first = shared('v1');
    await settle();
    const second = shared('v1');
    started[0]!.reject(new Error('database unavailable'));
    await expect(first).rejects.toThrow('database unavailable');
    await settle();
    expect(started).toHaveLength(2);
    started[1]!.resolve('row');
    expect(await second).toBe('row');
  });
});
