import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../../src/controller/rate-limiter.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TokenBucket (maxWritesPerMinute)', () => {
  it('allows a burst of `capacity` writes, then says how long to wait for the next', () => {
    const b = new TokenBucket(3, 60_000);
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 0]);
    expect(b.take()).toBe(20_000); // one token every 20 s
    expect(b.take()).toBe(20_000); // asking again takes nothing
  });

  it('refills continuously: after the wait it said, one write goes through', () => {
    const b = new TokenBucket(3, 60_000);
    for (let i = 0; i < 3; i++) b.take();
    vi.advanceTimersByTime(10_000);
    expect(b.take()).toBe(10_000);
    vi.advanceTimersByTime(10_000);
    expect(b.take()).toBe(0);
    expect(b.take()).toBe(20_000);
  });

  it('never saves up more than its capacity', () => {
    const b = new TokenBucket(2, 60_000);
    vi.advanceTimersByTime(3_600_000);
    expect([b.take(), b.take()]).toEqual([0, 0]);
    expect(b.take()).toBeGreaterThan(0);
  });

  it('holds a sustained rate: 30 per minute over five minutes', () => {
    const b = new TokenBucket(30, 60_000);
    let writes = 0;
    for (let t = 0; t < 300_000; t += 100) {
      if (b.take() === 0) writes++;
      vi.advanceTimersByTime(100);
    }
    // the initial burst of 30, then 30 per minute
    expect(writes).toBeGreaterThanOrEqual(30 + 149);
    expect(writes).toBeLessThanOrEqual(30 + 150);
  });
});
