import PQueue from 'p-queue';

export interface WorkQueueOptions {
  concurrency: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
}

/**
 * A keyed work queue in the style of client-go's workqueue: a key waiting is queued once however many
 * events name it (dedupe); a key being processed is never processed twice at once (a new event while it
 * runs queues it again after); a failing key is retried with exponential backoff. p-queue is the executor.
 */
export class WorkQueue {
  private readonly executor: PQueue;
  private readonly waiting = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly handler: (key: string) => Promise<void>,
    private readonly options: WorkQueueOptions = { concurrency: 4, baseBackoffMs: 200, maxBackoffMs: 60_000 },
    private readonly onError: (key: string, err: unknown, attempt: number) => void = () => undefined,
  ) {
    this.executor = new PQueue({ concurrency: options.concurrency });
  }

  /** Keys waiting or running. */
  get depth(): number {
    return this.waiting.size + this.running.size + this.timers.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    void this.executor.add(() => this.process(key));
  }

  private async process(key: string): Promise<void> {
    this.waiting.delete(key);
    if (this.stopped) return;
    this.running.add(key);
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (err) {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      this.onError(key, err, attempt);
      this.retryLater(key, Math.min(this.options.maxBackoffMs, this.options.baseBackoffMs * 2 ** (attempt - 1)));
    } finally {
      this.running.delete(key);
      if (this.dirty.delete(key)) this.add(key);
    }
  }

  /**
   * Adds the key after a delay (client-go's AddAfter): a key already waiting for a delayed add keeps the
   * earlier one. drained() waits for delayed keys too.
   */
  addAfter(key: string, delayMs: number): void {
    this.retryLater(key, delayMs);
  }

  private retryLater(key: string, delayMs: number): void {
    if (this.stopped || this.timers.has(key)) return;
    const t = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    t.unref();
    this.timers.set(key, t);
  }

  /** Resolves when nothing is queued, running or waiting for a retry. */
  async drained(): Promise<void> {
    for (;;) {
      await this.executor.onIdle();
      if (this.depth === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Takes work again after shutdown() (a new leadership term), with no retry history. */
  reopen(): void {
    this.stopped = false;
    this.failures.clear();
  }

  /** Stops taking work and waits for the keys being processed to finish. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.executor.clear();
    this.waiting.clear();
    await this.executor.onIdle();
  }
}
