import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/commands/account-states';
import type { CommandContext } from '../../src/commands/write-commands';
import { Writer } from '../../src/commands/writer';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import {
  type AppendRequest,
  type AppendResult,
  type EventStore,
  PredecessorNotCommittedError,
} from '../../src/eventstore/port';
import { type TestDatabase, createTestDatabase } from '../support/database';
import { holdLogLock } from '../support/log-lock';
import { openJob, transferJob } from '../support/write-jobs';

/**
 * The pipelined group commit (ADR 0027): while one batch appends, the writer decides the next on
 * the state the appending one leaves, and sends it only once that one has committed. Here the
 * first append of a writer is held at a gate, so the next batch is decided ahead for certain,
 * and a second writer (another process) moves the account in between.
 */
describe('deciding a batch while the one before it appends', () => {
  let tdb: TestDatabase;
  let store: PostgresEventStore;
  const context: CommandContext = { correlationId: 'ahead', causationId: 'ahead' };
  const options = { batchSizeMax: 100, queueSizeMax: 1000 };

  /** A store whose next append waits until `open()`; every append is counted. */
  class GatedStore {
    private gate: Promise<void> | undefined;
    private release: (() => void) | undefined;
    /** Resolves when an append has reached the gate. */
    reached: Promise<void> = Promise.resolve();
    appends = 0;

    constructor(private readonly inner: EventStore) {}

    close(): void {
      let reached: () => void = () => {};
      this.reached = new Promise((r) => {
        reached = r;
      });
      this.gate = new Promise((r) => {
        this.release = r;
      });
      this.onReach = reached;
    }

    open(): void {
      this.release?.();
      this.gate = undefined;
    }

    /** Like `close`, for the next append only: those after it go straight to the store. */
    closeOne(): void {
      this.close();
      this.once = true;
    }

    private once = false;
    private onRefused: () => void = () => {};
    /** Resolves when an append sent with `after` has been refused by the store. */
    refused: Promise<void> = new Promise((r) => {
      this.onRefused = r;
    });

    private onReach: () => void = () => {};

    asStore(): EventStore {
      return new Proxy(this.inner, {
        get: (target, name, receiver) => {
          if (name !== 'append') return Reflect.get(target, name, receiver);
          return async (request: AppendRequest): Promise<AppendResult> => {
            this.appends++;
            const gate = this.gate;
            if (gate) {
              if (this.once) this.gate = undefined;
              this.onReach();
              await gate;
            }
            return target.append(request).catch((error: unknown) => {
              if (error instanceof PredecessorNotCommittedError) this.onRefused();
              throw error;
            });
          };
        },
      });
    }
  }

  beforeAll(async () => {
    tdb = await createTestDatabase();
    store = new PostgresEventStore(tdb.database.db);
  });
  afterAll(async () => {
    await tdb?.drop();
  });

  const open = (w: Writer, accountId: string, guarded: boolean) => w.submit(openJob(accountId, context, { guarded }));
  const transfer = (w: Writer, id: string, debit: string, credit: string, amount: bigint) =>
    w.submit(transferJob({ id, debit, credit, amount }, context));
  /** A guarded `src-<n>` holding 10, credited from `dst-<n>`. */
  const fundedPair = async (w: Writer, n: string) => {
    await open(w, `src-${n}`, true);
    await open(w, `dst-${n}`, false);
    await transfer(w, `fund-${n}`, `dst-${n}`, `src-${n}`, 10n);
  };
  const balanceOf = async (accountId: string) => {
    const rows = await tdb.query<{ credits: string; debits: string }>(
      `select coalesce(sum(case when data->>'creditAccountId' = $1 then (data->>'amount')::numeric end), 0)::text as credits,
              coalesce(sum(case when data->>'debitAccountId' = $1 then (data->>'amount')::numeric end), 0)::text as debits
       from events where type = 'TransferPosted'`,
      [accountId],
    );
    return BigInt(rows[0]!.credits) - BigInt(rows[0]!.debits);
  };

  it('the next batch is decided while one appends, and posts on the state that one committed', async () => {
    const gated = new GatedStore(store);
    const ahead: boolean[] = [];
    const a = new Writer(gated.asStore(), new AccountStates(gated.asStore()), {
      ...options,
      onCommitted: (info) => ahead.push(info.decidedAhead),
    });
    try {
      await fundedPair(a, '1');
      ahead.length = 0;

      gated.close();
      const first = transfer(a, 'first-1', 'src-1', 'dst-1', 6n);
      await gated.reached;
      const second = transfer(a, 'second-1', 'src-1', 'dst-1', 4n);
      // Let the writer take and decide the second batch while the first is held at the gate.
      await new Promise((r) => setTimeout(r, 50));
      gated.open();

      expect((await first).items[0]).toMatchObject({ outcome: 'created' });
      expect((await second).items[0]).toMatchObject({ outcome: 'created' });
      // The second was decided while the first appended (the first may have been too, while the
      // funding batch finished).
      expect(ahead).toHaveLength(2);
      expect(ahead[1]).toBe(true);
      expect(await balanceOf('src-1')).toBe(0n);
    } finally {
      await a.stop();
    }
  });

  it('the next batch is sent before the one it follows commits, and commits right after it (ADR 0041)', async () => {
    const sent: Array<{ decidedAhead: boolean; sentAhead: boolean; position: bigint }> = [];
    const a = new Writer(store, new AccountStates(store), {
      ...options,
      onCommitted: ({ decidedAhead, sentAhead, position }) => sent.push({ decidedAhead, sentAhead, position }),
    });
    try {
      await fundedPair(a, '3');
      sent.length = 0;

      // The first batch's append waits in PostgreSQL for the log's lock; the second is decided on
      // the state the first leaves and sent at once: it queues behind the first, there.
      const lock = await holdLogLock(tdb);
      let first: ReturnType<typeof transfer> | undefined;
      let second: ReturnType<typeof transfer> | undefined;
      try {
        first = transfer(a, 'first-3', 'src-3', 'dst-3', 6n);
        await lock.waiting(1);
        second = transfer(a, 'second-3', 'src-3', 'dst-3', 4n);
        await lock.waiting(2);
      } finally {
        await lock.release();
      }
      expect((await first).items[0]).toMatchObject({ outcome: 'created' });
      expect((await second).items[0]).toMatchObject({ outcome: 'created' });
      // (The first may have been decided and sent ahead too, while the funding batch finished.)
      expect(sent).toHaveLength(2);
      expect(sent[1]).toMatchObject({ decidedAhead: true, sentAhead: true });
      expect(sent[1]!.position).toBe(sent[0]!.position + 1n);
      expect(await balanceOf('src-3')).toBe(0n);
    } finally {
      await a.stop();
    }
  });

  it('a batch sent ahead that the store refused, because the one before had not committed yet, is sent again in its turn', async () => {
    const gated = new GatedStore(store);
    const sent: Array<{ decidedAhead: boolean; sentAhead: boolean }> = [];
    const a = new Writer(gated.asStore(), new AccountStates(gated.asStore()), {
      ...options,
      onCommitted: ({ decidedAhead, sentAhead }) => sent.push({ decidedAhead, sentAhead }),
    });
    try {
      await fundedPair(a, '4');
      sent.length = 0;

      // The first append is held here, before it reaches PostgreSQL; the second, sent ahead, gets
      // there first and is refused (the first's events are not in the log).
      gated.closeOne();
      const first = transfer(a, 'first-4', 'src-4', 'dst-4', 6n);
      await gated.reached;
      const second = transfer(a, 'second-4', 'src-4', 'dst-4', 4n);
      await gated.refused;
      gated.open();

      expect((await first).items[0]).toMatchObject({ outcome: 'created' });
      expect((await second).items[0]).toMatchObject({ outcome: 'created' });
      // Decided ahead and used: sent again as it was decided, not decided again.
      expect(sent).toHaveLength(2);
      expect(sent[1]).toEqual({ decidedAhead: true, sentAhead: false });
      expect(await balanceOf('src-4')).toBe(0n);
    } finally {
      await a.stop();
    }
  });

  it('a failed append voids what was decided ahead on it, even when the other process left the same revision', async () => {
    const gated = new GatedStore(store);
    const ahead: boolean[] = [];
    const a = new Writer(gated.asStore(), new AccountStates(gated.asStore()), {
      ...options,
      onCommitted: (info) => ahead.push(info.decidedAhead),
    });
    const b = new Writer(store, new AccountStates(store), options);
    try {
      await fundedPair(a, '2');
      ahead.length = 0;

      // A decides a debit of 6 (4 left, as it sees it) and holds its append at the gate; it takes
      // and decides a debit of 4 ahead on that. Meanwhile B debits 8: one event on the account,
      // the same revision A's first batch would have left.
      gated.close();
      const first = transfer(a, 'first-2', 'src-2', 'dst-2', 6n);
      await gated.reached;
      const second = transfer(a, 'second-2', 'src-2', 'dst-2', 4n);
      await new Promise((r) => setTimeout(r, 50));
      expect((await transfer(b, 'other-2', 'src-2', 'dst-2', 8n)).items[0]).toMatchObject({ outcome: 'created' });
      gated.open();

      // A's first append fails on its expected revision and is decided again: 2 left, refused.
      // The debit of 4 decided ahead on the 4 that never was must be decided again too: refused.
      // Sent as it was decided, it would pass the revision check and overdraw the account by 2.
      expect((await first).items[0]).toMatchObject({ outcome: 'failed', error: { slug: 'insufficient-funds' } });
      expect((await second).items[0]).toMatchObject({ outcome: 'failed', error: { slug: 'insufficient-funds' } });
      expect(await balanceOf('src-2')).toBe(2n);
      // Both were decided again in their turn: nothing decided ahead was used.
      expect(ahead).toEqual([false, false]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
