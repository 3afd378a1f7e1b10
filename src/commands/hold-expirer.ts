import { type Kysely, sql } from 'kysely';
import type { Tables } from '../platform/tables';
import { WakeSignal } from '../platform/wake-signal';
import type { Writer } from './writer';

export interface HoldExpirerOptions {
  /** How often to look for holds past their expiresAt: well under the contract's 2 s. */
  readonly pollMs: number;
  /** Most expiries proposed per look; the rest wait for the next one. */
  readonly batchSizeMax: number;
}

export const HOLD_EXPIRER_DEFAULTS: HoldExpirerOptions = { pollMs: 250, batchSizeMax: 500 };

/**
 * Releases holds once their expiresAt has passed (ADR 0019). It keeps no state of its own: the
 * read model lists the pending holds that are due (a partial index on rm_transfers), and each is
 * proposed to the writer as an expiry command like any client's. The writer decides it against the
 * hold's own stream, whose expected revision lets exactly one outcome win, whichever and however
 * many processes propose it, and whatever a post or void racing it does; a hold already settled
 * answers "nothing". A crash between a hold and its expiry loses nothing: the next look, in this
 * process or another, finds it again.
 */
export class HoldExpirer {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly signal = new WakeSignal();
  lastError: unknown;
  /** Expiries this process got recorded (the others found the hold settled already). */
  expired = 0;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly writer: Writer,
    private readonly options: HoldExpirerOptions = HOLD_EXPIRER_DEFAULTS,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.signal.interrupt();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.expireDue();
        this.lastError = undefined;
      } catch (error) {
        // The database or the writer is away: say so (readiness), try again at the next look.
        this.lastError = error;
      }
      await this.signal.wait(this.options.pollMs);
    }
  }

  /** One look: propose the expiry of every pending hold due by this process's clock. */
  async expireDue(): Promise<number> {
    const now = new Date().toISOString();
    const due = await sql<{ id: string }>`
      select id from rm_transfers
      where status = 'pending' and expires_at is not null and expires_at <= ${now}::timestamptz
      order by expires_at limit ${this.options.batchSizeMax}`.execute(this.db);
    if (due.rows.length === 0) return 0;
    const outcomes = await Promise.all(
      due.rows.map(({ id }) =>
        this.writer.submit({
          kind: 'hold',
          command: { type: 'ExpirePendingTransfer', transferId: id },
          context: { correlationId: `expiry:${id}`, causationId: `expiry:${id}`, actor: 'hold-expirer' },
        }),
      ),
    );
    const recorded = outcomes.filter((o) => 'outcome' in o && o.outcome === 'applied').length;
    this.expired += recorded;
    return recorded;
  }
}
