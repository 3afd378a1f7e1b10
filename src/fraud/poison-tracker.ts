import type { RecordedEvent } from '../eventstore/port';

/** What goes to `fraud_dead_letters` (ADR 0010, "Poison events"). */
export interface DeadLetterInput {
  readonly position: bigint;
  readonly eventId: string;
  readonly transferId: string | undefined;
  readonly error: string;
  readonly attempts: number;
}

/**
 * Failures per event, with the breaker closed. In memory on purpose: a restart gives an event a
 * fresh start, which errs on the side of scoring rather than dead-lettering.
 */
export class PoisonTracker {
  private readonly attempts = new Map<bigint, number>();

  constructor(
    private readonly attemptsMax: number,
    private readonly log?: (message: string) => void,
  ) {}

  /** Counts a failure of an event; returns its dead letter once it has failed often enough. */
  fail(event: RecordedEvent, error: unknown): DeadLetterInput | undefined {
    const attempts = (this.attempts.get(event.position) ?? 0) + 1;
    this.attempts.set(event.position, attempts);
    const message = error instanceof Error ? error.message : String(error);
    this.log?.(`event at ${event.position} failed (attempt ${attempts} of ${this.attemptsMax}): ${message}`);
    if (attempts < this.attemptsMax) return undefined;
    // Read as it was recorded: the event may be the one that does not decode.
    const { transferId } = event.data;
    return {
      position: event.position,
      eventId: event.eventId,
      transferId: typeof transferId === 'string' ? transferId : undefined,
      error: message,
      attempts,
    };
  }

  /** The checkpoint moved past `position`: forget what failed at or before it. */
  passed(position: bigint): void {
    for (const [at] of this.attempts) if (at <= position) this.attempts.delete(at);
  }
}
