/**
 * A fixed log-linear histogram of durations (ms), the bounded structure behind the p50/p90/p99 of each
 * aggregation group: exact below 64 ms, 64 sub-buckets per power of two above (a bucket is at most 1/64 =
 * 1.6 % of its value wide), values capped at 2^32 ms, so at most 1,728 counters (a Uint32Array that grows
 * up to the bucket of the largest value: 6.75 KiB at most, ~2.8 KiB for durations up to a minute) whatever the
 * number of requests. min, max and the sum are exact, and a percentile is the middle of its bucket clamped
 * to [min, max] (exact when every value of a group is the same, e.g. 15004).
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64
const MAX_VALUE = 2 ** 32 - 1;
const MAX_BUCKETS = SUB + (32 - SUB_BITS) * SUB; // 1,728: the bucket of 2^32 - 1 is 1,727

function bucketOf(v: number): number {
  if (v < SUB) return v;
  const e = Math.floor(Math.log2(v));
  const width = 2 ** (e - SUB_BITS);
  const sub = Math.floor((v - 2 ** e) / width);
  return SUB + (e - SUB_BITS) * SUB + sub;
}

function bucketRange(index: number): [number, number] {
  if (index < SUB) return [index, index];
  const e = Math.floor((index - SUB) / SUB) + SUB_BITS;
  const sub = (index - SUB) % SUB;
  const width = 2 ** (e - SUB_BITS);
  const lo = 2 ** e + sub * width;
  return [lo, lo + width - 1];
}

export interface DurationSummary {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export class DurationHistogram {
  private counts = new Uint32Array(0);
  count = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;

  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const v = Math.min(Math.round(ms), MAX_VALUE);
    const b = bucketOf(v);
    if (b >= this.counts.length) {
      const grown = new Uint32Array(Math.min(MAX_BUCKETS, Math.max(b + 1, this.counts.length * 2, 128)));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[b] = (this.counts[b] ?? 0) + 1;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Number of non-empty buckets (<= 1,728). */
  get bucketCount(): number {
    return this.counts.reduce((n, c) => n + (c > 0 ? 1 : 0), 0);
  }

  /** Counter slots allocated (<= 1,728). */
  get capacity(): number {
    return this.counts.length;
  }

  /** Nearest-rank percentile, 0 < p <= 100; undefined when empty. */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let k = 0; k < this.counts.length; k++) {
      seen += this.counts[k] ?? 0;
      if (seen >= rank) {
        const [lo, hi] = bucketRange(k);
        return Math.min(this.max, Math.max(this.min, Math.round((lo + hi) / 2)));
      }
    }
    return this.max;
  }

  summary(): DurationSummary | undefined {
    if (this.count === 0) return undefined;
    return {
      min: this.min,
      p50: this.percentile(50) ?? this.min,
      p90: this.percentile(90) ?? this.max,
      p99: this.percentile(99) ?? this.max,
      max: this.max,
      mean: Math.round(this.sum / this.count),
    };
  }
}
