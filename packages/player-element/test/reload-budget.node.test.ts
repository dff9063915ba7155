// The budget of reloads with a fresh /stream URL, on a clock the test moves.
import { describe, expect, it } from 'vitest';
import { MAX_RELOADS_PER_MINUTE, ReloadBudget } from '../src/stream/reload-budget.js';

function budgetAt(start = 1_000): { budget: ReloadBudget; advance(ms: number): void } {
  let now = start;
  return { budget: new ReloadBudget(() => now), advance: (ms) => (now += ms) };
}

describe('reload budget', () => {
  it('allows three reloads within a minute and refuses the fourth', () => {
    const { budget, advance } = budgetAt();
    const answers: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      answers.push(budget.take());
      advance(10_000);
    }
    expect(MAX_RELOADS_PER_MINUTE).toBe(3);
    expect(answers).toEqual([true, true, true, false]);
  });

  it('forgets a reload a minute after it happened', () => {
    const { budget, advance } = budgetAt();
    budget.take();
    advance(30_000);
    budget.take();
    budget.take();
    advance(29_999);
    expect(budget.take()).toBe(false);
    // The first reload is now a minute old; the refused one still counts.
    advance(1);
    expect(budget.take()).toBe(false);
    advance(30_000);
    expect(budget.take()).toBe(true);
  });

  it('starts afresh after reset, as Retry does', () => {
    const { budget } = budgetAt();
    for (let i = 0; i < 4; i++) budget.take();
    expect(budget.take()).toBe(false);
    budget.reset();
    expect([budget.take(), budget.take(), budget.take(), budget.take()]).toEqual([true, true, true, false]);
  });
});
