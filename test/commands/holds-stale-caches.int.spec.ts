import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/commands/account-states';
import type { CommandContext, WriteJob } from '../../src/commands/write-commands';
import { Writer } from '../../src/commands/writer';
import { PostgresEventStore } from '../../src/eventstore/postgres-event-store';
import { type TestDatabase, createTestDatabase } from '../support/database';
import { openJob, transferJob } from '../support/write-jobs';

/**
 * Two writers on one store: two processes' caches, deterministically. One process caches a hold
 * and its accounts at different moments, because the other moved one of them in between. Deciding
 * a post, void or expiry on such caches once crashed the batch with "money invariant violated:
 * pending of bank below zero" (a 500 in the two-process expiry race of holds-concurrency): the
 * writer must catch up on what moved and decide again, as it does on a conflict.
 */
describe('holds decided on caches of different ages (two writers, one store)', () => {
  let tdb: TestDatabase;
  let a: Writer;
  let b: Writer;
  const context: CommandContext = { correlationId: 'stale-caches', causationId: 'stale-caches' };
  const options = { batchSizeMax: 100, queueSizeMax: 1000 };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const store = new PostgresEventStore(tdb.database.db);
    a = new Writer(store, new AccountStates(store), options);
    b = new Writer(store, new AccountStates(store), options);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await tdb?.drop();
  });

  const open = (w: Writer, accountId: string) => w.submit(openJob(accountId, context));
  const transfer = (w: Writer, id: string, debit: string, credit: string, amount: bigint, pending = false) =>
    w.submit(
      transferJob(
        {
          id,
          debit,
          credit,
          amount,
          pending,
          ...(pending ? { expiresAt: new Date(Date.now() + 300).toISOString() } : {}),
        },
        context,
      ),
    );
  const hold = (w: Writer, command: Extract<WriteJob, { kind: 'hold' }>['command']) =>
    w.submit({ kind: 'hold', command, commandHash: `${command.type}-${command.transferId}`, context });

  it('a hold the other process made, on accounts this one cached before it: posted, not crashed', async () => {
    expect(await open(a, 'bank-1')).toMatchObject({ outcome: 'created' });
    expect(await open(a, 'shop-1')).toMatchObject({ outcome: 'created' });
    // B caches both accounts (nothing held), then A holds 50 on them.
    expect((await transfer(b, 'b-cache-1', 'bank-1', 'shop-1', 1n)).items[0]).toMatchObject({ outcome: 'created' });
    expect((await transfer(a, 'h-1', 'bank-1', 'shop-1', 50n, true)).items[0]).toMatchObject({ outcome: 'created' });
    // B loads the hold fresh (pending 50) against its bank, which holds nothing.
    const posted = await hold(b, { type: 'PostPendingTransfer', postId: 'p-1', transferId: 'h-1', final: true });
    expect(posted).toMatchObject({ outcome: 'applied', transfer: { state: { status: 'posted', postedAmount: 50n } } });
  });

  it('an expiry of such a hold, from this process: recorded, not crashed', async () => {
    await open(a, 'bank-2');
    await open(a, 'shop-2');
    await transfer(b, 'b-cache-2', 'bank-2', 'shop-2', 1n);
    await transfer(a, 'h-2', 'bank-2', 'shop-2', 50n, true);
    await new Promise((r) => setTimeout(r, 350));
    const expired = await hold(b, { type: 'ExpirePendingTransfer', transferId: 'h-2' });
    expect(expired).toMatchObject({
      outcome: 'applied',
      transfer: { state: { status: 'expired', pendingAmount: 0n } },
    });
  });

  it('a hold this process cached, settled by the other, on accounts this one caught up with: refused, not crashed', async () => {
    await open(a, 'bank-3');
    await open(a, 'shop-3');
    // B makes the hold: it caches the hold (pending 50) and both accounts.
    expect((await transfer(b, 'h-3', 'bank-3', 'shop-3', 50n, true)).items[0]).toMatchObject({ outcome: 'created' });
    // A posts it in full: the hold is settled, both accounts hold nothing.
    const post = await hold(a, { type: 'PostPendingTransfer', postId: 'p-3', transferId: 'h-3', final: true });
    expect(post).toMatchObject({ outcome: 'applied' });
    // B's next transfer on the accounts conflicts and refreshes them, not the hold.
    expect((await transfer(b, 'b-after-3', 'bank-3', 'shop-3', 1n)).items[0]).toMatchObject({ outcome: 'created' });
    // B voids the hold it still caches as pending 50, against accounts that hold nothing.
    const voided = await hold(b, { type: 'VoidPendingTransfer', voidId: 'v-3', transferId: 'h-3' });
    expect(voided).toMatchObject({ slug: 'transfer-not-pending' });
  });
});
