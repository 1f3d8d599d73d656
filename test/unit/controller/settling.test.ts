import { describe, expect, it } from 'vitest';
import { SettleClock } from '../../../src/controller/settling.js';

describe('SettleClock', () => {
  it('holds a subject until its namespace has been quiet for the settle time', () => {
    let t = 0;
    const clock = new SettleClock(3000, 15_000, () => t);
    clock.changed('shop');
    t = 1000;
    expect(clock.waitMs('VirtualService/shop/db', 'shop')).toBe(2000);
    t = 3000;
    expect(clock.waitMs('VirtualService/shop/db', 'shop')).toBe(0);
    // Changes elsewhere do not hold it back.
    clock.changed('payments');
    expect(clock.waitMs('VirtualService/shop/db', 'shop')).toBe(0);
  });

  it('never holds a subject back longer than the cap when its namespace keeps changing', () => {
    let t = 0;
    const clock = new SettleClock(3000, 10_000, () => t);
    const waits: number[] = [];
    for (t = 0; t <= 12_000; t += 1000) {
      clock.changed('busy');
      waits.push(clock.waitMs('VirtualService/busy/db', 'busy'));
    }
    expect(waits.slice(0, 8).every((w) => w > 0)).toBe(true);
    expect(waits[10]).toBe(0); // 10 s after it was first held back
  });
});
