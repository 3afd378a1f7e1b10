/**
 * A sleep that `wake()` cuts short, for the loops that follow the global log (projector, relay,
 * fraud scorer). A wake that arrives while the loop is busy rather than asleep is remembered, so
 * the loop's next wait ends at once: events appended during a batch are not left for the next poll.
 */
export class WakeSignal {
  private pending = false;
  private current: { readonly end: () => void; readonly wakeable: boolean } | undefined;

  /** New events: end a wakeable wait now, or the next one when none is under way. */
  wake(): void {
    if (this.current?.wakeable) this.current.end();
    else this.pending = true;
  }

  /** End whatever wait is under way, wakeable or not (the loop is stopping). */
  interrupt(): void {
    this.current?.end();
  }

  /**
   * Waits `ms`, or until woken. `wakeable: false` is a backoff that new events must not cut short
   * (only `interrupt` does); a wake that comes meanwhile still ends the next wakeable wait at once.
   */
  wait(ms: number, options: { wakeable?: boolean } = {}): Promise<void> {
    const wakeable = options.wakeable ?? true;
    if (wakeable && this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        if (this.current?.end === end) this.current = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.current = { end, wakeable };
    });
  }
}
