/**
 * When a fix that is judged on absence (it creates what is missing) may be judged: once the changes in
 * the subject's namespace have settled, since one `kubectl apply` of a VirtualService and its
 * ServiceEntry arrives as a burst of events. A namespace that never stops changing cannot hold a subject
 * back for more than `maxWaitMs`.
 */
export class SettleClock {
  private readonly lastChange = new Map<string, number>();
  private readonly firstAsked = new Map<string, number>();

  constructor(
    private readonly settleMs: number,
    private readonly maxWaitMs = settleMs * 5,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** An object of `namespace` was added, changed or deleted. */
  changed(namespace: string): void {
    this.lastChange.set(namespace, this.now());
  }

  /** Milliseconds to wait before judging `subject` (in `namespace`) on absence; 0 when it may be judged now. */
  waitMs(subject: string, namespace: string): number {
    const now = this.now();
    const first = this.firstAsked.get(subject) ?? now;
    const quietIn = (this.lastChange.get(namespace) ?? -Infinity) + this.settleMs - now;
    const capIn = first + this.maxWaitMs - now;
    const wait = Math.max(0, Math.min(quietIn, capIn));
    if (wait === 0) this.firstAsked.delete(subject);
    else this.firstAsked.set(subject, first);
    return wait;
  }

  /** Forgets the subjects and namespaces (a new leadership term). */
  reset(): void {
    this.lastChange.clear();
    this.firstAsked.clear();
  }
}
