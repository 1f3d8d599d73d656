/** A token bucket: `capacity` writes per `periodMs`, refilled continuously. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(
    private readonly capacity: number,
    private readonly periodMs: number,
  ) {
    this.tokens = capacity;
  }

  /** Takes a token; returns 0, or how many ms to wait before one is available (then nothing is taken). */
  take(): number {
    const now = Date.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / this.periodMs) * this.capacity);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.capacity) * this.periodMs);
  }
}
