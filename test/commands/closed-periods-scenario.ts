import { expect } from 'vitest';
import { AccountStates } from '../../src/commands/account-states';
import { commandHash } from '../../src/commands/command-hash';
import type { AdjustmentOutcome, CommandContext, TransfersOutcome } from '../../src/commands/write-commands';
import { Writer } from '../../src/commands/writer';
import { isLedgerError } from '../../src/domain/errors';
import type { EventStore } from '../../src/eventstore/port';

const as = (actor: string): CommandContext => ({ correlationId: `c-${actor}`, causationId: `c-${actor}`, actor });

/**
 * Closed periods and adjustments on one event store, through two writers with adapters of their own,
 * as two processes run them (each with its own caches): the same scenario for every adapter.
 */
export async function closedPeriodsScenario(stores: readonly [EventStore, EventStore]): Promise<void> {
  const writer = (store: EventStore) =>
    new Writer(store, new AccountStates(store), { batchSizeMax: 100, queueSizeMax: 1000 });
  const [a, b] = [writer(stores[0]), writer(stores[1])];
  const store = stores[0];
  const open = async (accountId: string) => {
    const outcome = await a.submit({
      kind: 'open',
      command: {
        type: 'OpenAccount',
        accountId,
        currency: 'USD',
        normalSide: 'credit',
        flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false },
        metadata: {},
      },
      commandHash: commandHash('OpenAccount', { accountId }),
      context: as('admin'),
    });
    if (isLedgerError(outcome)) throw new Error(outcome.detail);
    return outcome.account.openedAt;
  };
  const openedAt = [await open('bank'), await open('alice')].sort().at(-1)!;
  const inPeriod = new Date(Date.parse(openedAt) + 1).toISOString();
  const post = (w: Writer, transferId: string, effectiveAt?: string): Promise<TransfersOutcome> =>
    w.submit({
      kind: 'transfers',
      atomic: false,
      commands: [
        {
          command: {
            type: 'PostTransfer',
            transferId,
            debitAccountId: 'bank',
            creditAccountId: 'alice',
            amount: 3n,
            currency: 'USD',
            metadata: {},
            ...(effectiveAt ? { effectiveAt } : {}),
          },
          commandHash: commandHash('PostTransfer', { transferId, effectiveAt }),
        },
      ],
      context: as('operator'),
    });
  const slugOf = (outcome: TransfersOutcome) => {
    const item = outcome.items[0]!;
    return item.outcome === 'failed' ? item.error.slug : item.outcome;
  };

  // B posts backdated while nothing is closed: it caches the periods as they stand.
  expect(slugOf(await post(b, 'before', inPeriod))).toBe('created');
  await new Promise((r) => setTimeout(r, 10));
  const through = new Date(Date.now() - 2).toISOString();
  const closed = await a.submit({
    kind: 'close-period',
    command: { type: 'ClosePeriod', through, reason: 'month end' },
    context: as('admin'),
  });
  expect(closed).toMatchObject({ outcome: 'created', through, closedBy: 'admin' });

  // B decides on its stale cache; the store's check on the periods stream catches it.
  const late = await post(b, 'late', inPeriod);
  expect(slugOf(late)).toBe('period-closed');
  expect(slugOf(await post(b, 'now'))).toBe('created');
  expect((await store.readStream('transfer-late')).revision).toBe(-1n);

  const request = (w: Writer, actor: string): Promise<AdjustmentOutcome> =>
    w.submit({
      kind: 'request-adjustment',
      command: {
        type: 'RequestAdjustment',
        transfer: {
          type: 'PostTransfer',
          transferId: 'adj',
          debitAccountId: 'bank',
          creditAccountId: 'alice',
          amount: 7n,
          currency: 'USD',
          metadata: {},
          effectiveAt: inPeriod,
        },
      },
      commandHash: 'adj-hash',
      context: as(actor),
    });
  const approve = (w: Writer, actor: string): Promise<AdjustmentOutcome> =>
    w.submit({
      kind: 'approve-adjustment',
      command: { type: 'ApproveAdjustment', adjustmentId: 'adj' },
      context: as(actor),
    });

  const requested = await request(b, 'operator');
  expect(requested).toMatchObject({ outcome: 'created', adjustment: { status: 'pending', closedThrough: through } });
  expect((await store.readStream('transfer-adj')).revision).toBe(-1n);
  const self = await approve(a, 'operator');
  expect(isLedgerError(self) && self.slug).toBe('self-approval');
  const approved = await approve(a, 'admin');
  expect(approved).toMatchObject({ outcome: 'approved', adjustment: { status: 'approved', approvedBy: 'admin' } });
  const posted = await store.readStream('transfer-adj');
  expect(posted.events.map((e) => [e.type, e.data.effectiveAt, e.data.amount])).toEqual([
    ['TransferPosted', inPeriod, '7'],
  ]);
  // Approved again in the other process: the first approval stands, nothing is appended.
  const again = await approve(b, 'auditor-key');
  expect(again).toMatchObject({ outcome: 'duplicate', adjustment: { approvedBy: 'admin' } });
  const adjustment = await store.readStream('adjustment-adj');
  expect(adjustment.events.map((e) => [e.type, e.metadata.actor])).toEqual([
    ['AdjustmentRequested', 'operator'],
    ['AdjustmentApproved', 'admin'],
    ['TransferPosted', 'admin'],
  ]);
  // B's cache of alice saw none of A's approval; its next posting still lands on the right balance.
  expect(slugOf(await post(b, 'after'))).toBe('created');
  const alice = await store.readStream('account-alice');
  const credits = alice.events
    .filter((e) => e.type === 'TransferPosted')
    .reduce((sum, e) => sum + BigInt(e.data.amount as string), 0n);
  expect(credits).toBe(3n + 3n + 7n + 3n);
  await Promise.all([a.stop(), b.stop()]);
}
