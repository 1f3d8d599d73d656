import { afterEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue } from '../../../src/controller/work-queue.js';

/** A promise the test resolves when it wants. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** An error as the API server's 409 Conflict reaches the queue (ApiError carries the HTTP status as `code`). */
function conflict(): Error {
  return Object.assign(new Error('Operation cannot be fulfilled: the object has been modified'), { code: 409 });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe('WorkQueue', () => {
  it('retries a key whose handler failed with a 409, after the base backoff, and then it succeeds', async () => {
    vi.useFakeTimers();
    const calls: number[] = [];
    const errors: { key: string; code: unknown; attempt: number }[] = [];
    const q = new WorkQueue(
      async (key) => {
        calls.push(Date.now());
        if (calls.length === 1) throw conflict();
        expect(key).toBe('s|DestinationRule/shop/reviews');
      },
      { concurrency: 2, baseBackoffMs: 200, maxBackoffMs: 10_000 },
      (key, err, attempt) => errors.push({ key, code: (err as { code?: unknown }).code, attempt }),
    );
    q.add('s|DestinationRule/shop/reviews');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(errors).toEqual([{ key: 's|DestinationRule/shop/reviews', code: 409, attempt: 1 }]);
    expect(q.depth).toBe(1); // waiting for its retry

    await vi.advanceTimersByTimeAsync(199);
    expect(calls).toHaveLength(1); // not before the backoff
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]! - calls[0]!).toBe(200);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(2); // succeeded: no further attempt
    expect(q.depth).toBe(0);
  });

  it('backs off exponentially up to the maximum, and starts over after a success', async () => {
    vi.useFakeTimers();
    const times: number[] = [];
    let failUntil = 6;
    const q = new WorkQueue(
      async () => {
        times.push(Date.now());
        if (times.length <= failUntil) throw conflict();
      },
      { concurrency: 1, baseBackoffMs: 100, maxBackoffMs: 1_000 },
    );
    q.add('k');
    await vi.advanceTimersByTimeAsync(10_000);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toEqual([100, 200, 400, 800, 1_000, 1_000]);

    // A later failure of the same key starts from the base delay again.
    failUntil = times.length + 1;
    const before = times.length;
    q.add('k');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(times.length).toBe(before + 2);
    expect(times[before + 1]! - times[before]!).toBe(100);
  });

  it('runs a key added many times while it waits only once (dedupe)', async () => {
    const blocker = gate();
    const runs: string[] = [];
    const q = new WorkQueue(
      async (key) => {
        runs.push(key);
        if (key === 'block') await blocker.promise;
      },
      { concurrency: 1, baseBackoffMs: 10, maxBackoffMs: 100 },
    );
    q.add('block'); // occupies the only worker: the others wait
    await tick();
    for (let i = 0; i < 10; i++) q.add('s|ServiceEntry/db/mysql');
    q.add('p|default');
    q.add('s|ServiceEntry/db/mysql');
    expect(q.depth).toBe(3);
    blocker.open();
    await q.drained();
    expect(runs).toEqual(['block', 's|ServiceEntry/db/mysql', 'p|default']);
  });

  it('never runs one key twice at once; a key added while it runs runs once more afterwards', async () => {
    const release = gate();
    let running = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        runs++;
        running++;
        maxConcurrent = Math.max(maxConcurrent, running);
        if (runs === 1) await release.promise;
        await tick();
        running--;
      },
      { concurrency: 4, baseBackoffMs: 10, maxBackoffMs: 100 },
    );
    q.add('s|VirtualService/shop/gateway-routes');
    await tick();
    expect(runs).toBe(1);
    // Events for the same key while it is being processed: free workers, yet none picks it up now.
    for (let i = 0; i < 5; i++) q.add('s|VirtualService/shop/gateway-routes');
    await tick();
    expect(runs).toBe(1);
    release.open();
    await q.drained();
    expect(maxConcurrent).toBe(1);
    expect(runs).toBe(2); // the events that came meanwhile are seen by one more run
  });

  it('runs different keys concurrently up to the concurrency', async () => {
    const release = gate();
    let running = 0;
    let maxConcurrent = 0;
    const q = new WorkQueue(
      async () => {
        running++;
        maxConcurrent = Math.max(maxConcurrent, running);
        await release.promise;
        running--;
      },
      { concurrency: 3, baseBackoffMs: 10, maxBackoffMs: 100 },
    );
    for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
    await tick();
    expect(running).toBe(3);
    release.open();
    await q.drained();
    expect(maxConcurrent).toBe(3);
  });

  it('drops pending retries on shutdown, takes no work after it, and works again after reopen()', async () => {
    vi.useFakeTimers();
    const runs: string[] = [];
    const q = new WorkQueue(
      async (key) => {
        runs.push(key);
        if (key === 'failing') throw conflict();
      },
      { concurrency: 1, baseBackoffMs: 100, maxBackoffMs: 1_000 },
    );
    q.add('failing');
    await vi.advanceTimersByTimeAsync(0);
    await q.shutdown();
    q.add('after-shutdown');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toEqual(['failing']);
    expect(q.depth).toBe(0);

    q.reopen();
    q.add('next-term');
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual(['failing', 'next-term']);
  });
});
