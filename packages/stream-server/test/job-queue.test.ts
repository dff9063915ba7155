import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createDatabase, type Database, type Db } from '../src/db/create-database.js';
import { createJobRunner, type Clock, type JobHandler, type JobSource } from '../src/jobs/job-runner.js';
import { createLeasedQueue, type LeaseRef } from '../src/jobs/leased-queue.js';
import { createTestDatabase } from './helpers/test-server.js';

// The leased queue and the job runner on their own, against a table of their own, on both databases.

interface TestJobRow {
  id: string;
  kind: string;
  state: string;
  result: string | null;
  attempts: number;
  owner: string | null;
  expires_at: Date | null;
  not_before: Date | null;
  created_at: Date;
}

const queue = createLeasedQueue<TestJobRow, LeaseRef>({
  table: 'test_jobs',
  columns: {
    leaseOwner: 'owner',
    leaseExpiresAt: 'expires_at',
    attempts: 'attempts',
    nextAttemptAt: 'not_before',
  },
  claimable: sql<boolean>`state = 'pending'`,
  order: sql`created_at, id`,
  stillOurs: () => sql<boolean>`state = 'pending'`,
  stillWanted: () => sql<boolean>`kind <> 'unwanted'`,
});

async function addJob(db: Db, id: string, kind = 'a', createdOffsetSeconds = 0) {
  await sql`insert into test_jobs (id, kind, created_at)
            values (${id}, ${kind}, now() + make_interval(secs => ${createdOffsetSeconds}))`.execute(db);
}

async function row(db: Db, id: string): Promise<TestJobRow> {
  const result = await sql<TestJobRow>`select * from test_jobs where id = ${id}`.execute(db);
  return result.rows[0]!;
}

/** A clock whose timers fire only when the test advances it. */
function manualClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const clock: Clock & { advance(ms: number): void; pending(): number } = {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at <= now) {
          timers.delete(id);
          timer.callback();
        }
      }
    },
    pending: () => timers.size,
  };
  return clock;
}

async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const silent = pino({ level: 'silent' });

describe.each(['pglite', 'postgres'] as const)('leased queue and job runner (%s)', (kind) => {
  let database: Database;
  let db: Db;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (kind === 'pglite') {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'notetaker-jobs-'));
      database = await createDatabase({ kind: 'pglite', dataDir: dir });
      cleanup = async () => {
        await database.close();
        await fs.rm(dir, { recursive: true, force: true });
      };
    } else {
      const created = await createTestDatabase();
      database = await createDatabase({ kind: 'postgres', url: created.url });
      cleanup = async () => {
        await database.close();
        await created.drop();
      };
    }
    db = database.db;
    await sql`create table test_jobs (
      id text primary key,
      kind text not null,
      state text not null default 'pending',
      result text,
      attempts integer not null default 0,
      owner text,
      expires_at timestamptz,
      not_before timestamptz,
      created_at timestamptz not null default now()
    )`.execute(db);
  });

  afterAll(async () => {
    await cleanup?.();
  });

  beforeEach(async () => {
    await sql`delete from test_jobs`.execute(db);
  });

  describe('queue', () => {
    it('claims in order, counts an attempt, and never hands one job to two workers', async () => {
      for (let i = 0; i < 6; i += 1) await addJob(db, `job-${i}`, 'a', i);
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) => queue.claim(db, `worker-${i}`, 30)),
      );
      const claimed = claims.filter((c): c is TestJobRow => c !== undefined);
      expect(claimed).toHaveLength(6);
      expect(new Set(claimed.map((c) => c.id)).size).toBe(6);
      for (const c of claimed) {
        expect(c.attempts).toBe(1);
        expect(c.owner).toMatch(/^worker-/);
        expect(c.expires_at).not.toBeNull();
      }
      expect(await queue.claim(db, 'late', 30)).toBeUndefined();
    });

    it('takes over an expired lease, after which the first holder can no longer write', async () => {
      await addJob(db, 'one');
      const first = await queue.claim(db, 'A', 30);
      expect(first?.id).toBe('one');
      expect(await queue.claim(db, 'B', 30)).toBeUndefined();
      // A dies: its lease runs out.
      await sql`update test_jobs set expires_at = now() - interval '1 second'`.execute(db);
      const second = await queue.claim(db, 'B', 30);
      expect(second).toMatchObject({ id: 'one', owner: 'B', attempts: 2 });
      expect(await queue.renew(db, { id: 'one', workerId: 'A' }, 30)).toBe(false);
      expect(await queue.complete(db, { id: 'one', workerId: 'A' }, { state: 'done' })).toBeUndefined();
      expect(await queue.release(db, { id: 'one', workerId: 'A' }, 0)).toBe(false);
      expect(await queue.renew(db, { id: 'one', workerId: 'B' }, 30)).toBe(true);
      const done = await queue.complete(db, { id: 'one', workerId: 'B' }, { state: 'done', result: 'ok' });
      expect(done).toMatchObject({ state: 'done', result: 'ok', owner: null, expires_at: null });
    });

    it('release with a delay holds the job back until its time; with null it keeps its retry time', async () => {
      await addJob(db, 'later');
      const claim = await queue.claim(db, 'A', 30);
      expect(await queue.release(db, { id: claim!.id, workerId: 'A' }, 3600, { result: 'boom' })).toBe(true);
      expect(await row(db, 'later')).toMatchObject({ owner: null, expires_at: null, result: 'boom' });
      expect(await queue.claim(db, 'B', 30)).toBeUndefined();
      await sql`update test_jobs set not_before = now() - interval '1 second'`.execute(db);
      const again = await queue.claim(db, 'B', 30);
      expect(again?.attempts).toBe(2);
      const before = (await row(db, 'later')).not_before;
      expect(
        await queue.release(db, { id: 'later', workerId: 'B' }, null, { attempts: sql`attempts - 1` }),
      ).toBe(true);
      const after = await row(db, 'later');
      expect(after.not_before).toEqual(before);
      expect(after.attempts).toBe(1);
    });

    it('fail ends the job for good; renew and complete also need the work to be wanted', async () => {
      await addJob(db, 'bad');
      await addJob(db, 'gone', 'unwanted', 1);
      const bad = await queue.claim(db, 'A', 30);
      const failed = await queue.fail(
        db,
        { id: bad!.id, workerId: 'A' },
        { state: 'failed', result: 'reason' },
      );
      expect(failed).toMatchObject({ state: 'failed', owner: null });
      const gone = await queue.claim(db, 'A', 30);
      expect(gone?.id).toBe('gone');
      expect(await queue.renew(db, { id: 'gone', workerId: 'A' }, 30)).toBe(false);
      expect(await queue.complete(db, { id: 'gone', workerId: 'A' }, { state: 'done' })).toBeUndefined();
      // Still its lease: it can be given up or handed back.
      expect(await queue.update(db, { id: 'gone', workerId: 'A' }, { result: 'partial' })).toBe(true);
      expect(await queue.release(db, { id: 'gone', workerId: 'A' }, 0)).toBe(true);
      expect(await queue.claim(db, 'A', 30)).toMatchObject({ id: 'gone' });
    });
  });

  describe('runner', () => {
    type Claim = LeaseRef & { row: TestJobRow };

    function testSource(overrides: Partial<JobSource<Claim>> = {}): JobSource<Claim> {
      return {
        what: 'test job',
        slots: 1,
        leaseSeconds: 30,
        async claim(workerId, leaseSeconds) {
          const claimed = await queue.claim(db, workerId, leaseSeconds);
          return claimed ? { id: claimed.id, workerId, row: claimed } : undefined;
        },
        renew: (claim, leaseSeconds) => queue.renew(db, claim, leaseSeconds),
        release: (claim) => queue.release(db, claim, 0),
        kindOf: (claim) => claim.row.kind,
        ...overrides,
      };
    }

    const completing: JobHandler<Claim> = {
      describe: (claim) => ({ jobId: claim.id }),
      async run(claim) {
        await queue.complete(db, claim, { state: 'done', result: claim.row.kind });
      },
      async onFailure() {},
    };

    it('runs each kind with its handler, sleeps when idle and wakes on notify', async () => {
      const clock = manualClock();
      const runner = createJobRunner({
        workerId: 'W',
        logger: silent,
        pollMs: 60_000,
        clock,
        sources: { main: testSource() },
        handlers: {
          a: completing,
          b: {
            ...completing,
            run: (claim) => queue.complete(db, claim, { state: 'done', result: 'b-handler' }).then(() => {}),
          },
        },
      });
      runner.start();
      // Nothing to do: the slot sleeps on the clock.
      await until('the slot to sleep', () => clock.pending() === 1);
      await addJob(db, 'x', 'a');
      await addJob(db, 'y', 'b', 1);
      // The poll interval never passes; only notify() wakes the slot.
      runner.notify('main');
      await until('both jobs done', async () => (await row(db, 'y')).state === 'done');
      expect((await row(db, 'x')).result).toBe('a');
      expect((await row(db, 'y')).result).toBe('b-handler');
      await until('the slot to sleep again', () => clock.pending() === 1);
      // And the poll interval, when it passes, also looks again.
      await addJob(db, 'z', 'a');
      clock.advance(60_000);
      await until('the polled job done', async () => (await row(db, 'z')).state === 'done');
      await runner.stop();
    });

    it('claims only while its source has room, and looks again when woken', async () => {
      const clock = manualClock();
      let room = false;
      let claims = 0;
      const source = testSource();
      const runner = createJobRunner({
        workerId: 'W',
        logger: silent,
        pollMs: 60_000,
        clock,
        sources: {
          main: {
            ...source,
            hasRoom: () => room,
            claim: (workerId, leaseSeconds) => {
              claims += 1;
              return source.claim(workerId, leaseSeconds);
            },
          },
        },
        handlers: { a: completing },
      });
      await addJob(db, 'x', 'a');
      runner.start();
      await until('the slot to sleep', () => clock.pending() === 1);
      runner.notify('main');
      await until('the slot to sleep again', () => clock.pending() === 1);
      expect(claims).toBe(0);
      expect((await row(db, 'x')).state).toBe('pending');
      room = true;
      runner.notify('main'); // as the process budget does when a process ends
      await until('the job done', async () => (await row(db, 'x')).state === 'done');
      expect(claims).toBeGreaterThanOrEqual(1);
      await runner.stop();
    });

    it('renews the lease every third of it, and aborts the job when the lease is lost', async () => {
      const clock = manualClock();
      let renewals = 0;
      let lostLogged = false;
      const source = testSource({
        async renew(claim, leaseSeconds) {
          renewals += 1;
          return queue.renew(db, claim, leaseSeconds);
        },
      });
      const runner = createJobRunner({
        workerId: 'W',
        logger: silent,
        pollMs: 60_000,
        clock,
        sources: { main: source },
        handlers: {
          a: {
            describe: () => ({}),
            run: (_claim, { signal }) =>
              new Promise((_, reject) =>
                signal.addEventListener('abort', () => reject(signal.reason as Error)),
              ),
            onFailure: async () => {
              throw new Error('not a failure: the lease was lost');
            },
            onLeaseLost: () => {
              lostLogged = true;
            },
          },
        },
      });
      await addJob(db, 'long', 'a');
      runner.start();
      await until('the job to run', () => runner.runningOf('main') === 1);
      clock.advance(9_999);
      expect(renewals).toBe(0);
      clock.advance(1);
      await until('a renewal', () => renewals === 1);
      const renewed = await row(db, 'long');
      expect(renewed.owner).toMatch(/^W#\d+$/); // the worker's id and its claim's number
      // Another worker takes the job over (say this one was partitioned away for longer than the lease).
      await sql`update test_jobs set owner = 'other'`.execute(db);
      await until('the next renewal timer', () => clock.pending() >= 1);
      clock.advance(10_000);
      await until('the job to be aborted', () => runner.runningOf('main') === 0);
      expect(lostLogged).toBe(true);
      expect((await row(db, 'long')).owner).toBe('other');
      await runner.stop();
    });

    it('a failed attempt goes to the handler, which retries later with backoff', async () => {
      const clock = manualClock();
      const failures: string[] = [];
      const runner = createJobRunner({
        workerId: 'W',
        logger: silent,
        pollMs: 60_000,
        clock,
        sources: { main: testSource() },
        handlers: {
          a: {
            describe: () => ({}),
            run: async () => {
              throw new Error('transient');
            },
            async onFailure(claim, error) {
              failures.push((error as Error).message);
              await queue.release(db, claim, 120, { result: (error as Error).message });
            },
          },
        },
      });
      await addJob(db, 'flaky', 'a');
      runner.start();
      await until('the failure', async () => (await row(db, 'flaky')).result === 'transient');
      const held = await row(db, 'flaky');
      expect(failures).toEqual(['transient']);
      expect(held.owner).toBeNull();
      expect(held.attempts).toBe(1);
      expect(held.not_before!.getTime()).toBeGreaterThan(Date.now() + 100_000);
      // Polling again before its time does not take it.
      clock.advance(60_000);
      await until('the slot to sleep again', () => clock.pending() === 1);
      expect((await row(db, 'flaky')).attempts).toBe(1);
      await runner.stop();
    });

    it('on stop aborts running work and hands it back at once, with separate slot pools per source', async () => {
      const clock = manualClock();
      let started = 0;
      const blocking: JobHandler<Claim> = {
        describe: () => ({}),
        run: (_claim, { signal }) => {
          started += 1;
          return new Promise((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason as Error)),
          );
        },
        onFailure: async () => {
          throw new Error('shutdown is not a failure');
        },
      };
      const onlyKind = (wanted: string) =>
        testSource({
          slots: 2,
          async claim(workerId, leaseSeconds) {
            // Two pools over one table, split by kind, as generation jobs and tasks are.
            const q = createLeasedQueue<TestJobRow, LeaseRef>({
              table: 'test_jobs',
              columns: {
                leaseOwner: 'owner',
                leaseExpiresAt: 'expires_at',
                attempts: 'attempts',
                nextAttemptAt: 'not_before',
              },
              claimable: sql<boolean>`state = 'pending' and kind = ${wanted}`,
              order: sql`created_at, id`,
            });
            const claimed = await q.claim(db, workerId, leaseSeconds);
            return claimed ? { id: claimed.id, workerId, row: claimed } : undefined;
          },
        });
      const runner = createJobRunner({
        workerId: 'W',
        logger: silent,
        pollMs: 60_000,
        clock,
        sources: { first: onlyKind('a'), second: onlyKind('b') },
        handlers: { a: blocking, b: blocking },
      });
      for (let i = 0; i < 3; i += 1) await addJob(db, `a${i}`, 'a', i);
      for (let i = 0; i < 3; i += 1) await addJob(db, `b${i}`, 'b', i);
      runner.start();
      await until(
        'both pools full',
        () => runner.runningOf('first') === 2 && runner.runningOf('second') === 2,
      );
      expect(runner.running).toBe(4);
      expect(started).toBe(4);
      await runner.stop();
      expect(runner.running).toBe(0);
      const rows = await sql<TestJobRow>`select * from test_jobs order by id`.execute(db);
      // Every lease handed back, none failed: another worker can start at once.
      for (const r of rows.rows) {
        expect(r.owner).toBeNull();
        expect(r.state).toBe('pending');
      }
      expect(rows.rows.filter((r) => r.attempts === 1).map((r) => r.id)).toEqual(['a0', 'a1', 'b0', 'b1']);
      expect(await queue.claim(db, 'next', 30)).toMatchObject({ id: 'a0' });
    });
  });
});
