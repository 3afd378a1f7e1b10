import { balanceOf, openedAccount } from '../domain/account';
import type { AccountOpened, LedgerEvent, MoneyEvent } from '../domain/events';
import { assertMoney } from '../domain/money';
import type { TransferStatus } from '../domain/transfer-state';
import type { RecordedEvent } from '../eventstore/port';

/** An account row of the read model, with amounts as bigint. */
export interface AccountRow {
  id: string;
  currency: string;
  normalSide: 'debit' | 'credit';
  flags: unknown;
  status: string;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  entryCount: bigint;
  version: bigint;
  openedAt: string;
  code: string | null;
  metadata: unknown;
  position: bigint;
}

export interface TransferRow {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  currency: string;
  status: TransferStatus;
  pendingAmount: bigint;
  postedAmount: bigint;
  reversedAmount: bigint;
  expiresAt: string | null;
  reverses: string | null;
  code: string | null;
  reference: string | null;
  metadata: unknown;
  effectiveAt: string;
  recordedAt: string;
  /** Position of the last event that changed the transfer. */
  position: bigint;
}

export interface EntryRow {
  accountId: string;
  seq: bigint;
  transferId: string;
  side: 'debit' | 'credit';
  amount: bigint;
  balanceAfter: bigint;
  effectiveAt: string;
  recordedAt: string;
  position: bigint;
}

/** A change of an account's pending total: + when a hold takes, − when a release gives back. */
export interface PendingRow {
  accountId: string;
  side: 'debit' | 'credit';
  /** Signed minor units. */
  amount: bigint;
  effectiveAt: string;
  recordedAt: string;
  position: bigint;
}

export interface ReadModelChanges {
  /** Accounts changed by the batch, in their state after it. */
  readonly accounts: Map<string, AccountRow>;
  /** Transfers started or changed by the batch, in their state after it. */
  readonly transfers: Map<string, TransferRow>;
  readonly entries: EntryRow[];
  readonly pendings: PendingRow[];
}

/** The transfers a batch changes without starting them: held ones it posts or releases, and those it reverses. */
export function transfersChangedBy(events: readonly RecordedEvent[]): string[] {
  const ids = new Set<string>();
  for (const event of events) {
    if (event.type.startsWith('PendingTransfer')) ids.add((event.data as { transferId: string }).transferId);
    if (event.type === 'TransferReversed') ids.add((event.data as { reverses: string }).reverses);
  }
  return [...ids];
}

/**
 * What a batch of the global log does to the read models, given the current rows of the
 * accounts and transfers it touches. Pure: the projector loads, calls this, and writes the result
 * with its checkpoint in one transaction.
 */
export function readModelChanges(
  events: readonly RecordedEvent[],
  current: ReadonlyMap<string, AccountRow>,
  currentTransfers: ReadonlyMap<string, TransferRow> = new Map(),
): ReadModelChanges {
  const accounts = new Map<string, AccountRow>();
  const transfers = new Map<string, TransferRow>();
  const entries: EntryRow[] = [];
  const pendings: PendingRow[] = [];
  const account = (id: string): AccountRow => {
    const row = accounts.get(id) ?? current.get(id);
    if (!row) throw new Error(`read model: event names account ${id}, which was never opened`);
    if (!accounts.has(id)) accounts.set(id, { ...row });
    return accounts.get(id)!;
  };
  const transfer = (id: string): TransferRow => {
    const row = transfers.get(id) ?? currentTransfers.get(id);
    if (!row) throw new Error(`read model: event names transfer ${id}, which was never started`);
    if (!transfers.has(id)) transfers.set(id, { ...row });
    return transfers.get(id)!;
  };

  for (const recorded of events) {
    const event = { type: recorded.type, data: recorded.data } as LedgerEvent;
    switch (event.type) {
      case 'AccountOpened':
        accounts.set(event.data.accountId, opened(event, recorded.position));
        break;
      case 'AccountFrozen':
      case 'AccountUnfrozen':
      case 'AccountClosed': {
        const row = account(event.data.accountId);
        row.status = event.type === 'AccountFrozen' ? 'frozen' : event.type === 'AccountUnfrozen' ? 'open' : 'closed';
        row.version += 1n;
        row.position = recorded.position;
        break;
      }
      case 'TransferPosted':
      case 'TransferPending':
      case 'TransferReversed': {
        const { data } = event;
        const amount = BigInt(data.amount);
        const held = event.type === 'TransferPending';
        transfers.set(data.transferId, {
          id: data.transferId,
          debitAccountId: data.debitAccountId,
          creditAccountId: data.creditAccountId,
          amount,
          currency: data.currency,
          status: held ? 'pending' : 'posted',
          pendingAmount: held ? amount : 0n,
          postedAmount: held ? 0n : amount,
          reversedAmount: 0n,
          expiresAt: event.type === 'TransferPending' ? (event.data.expiresAt ?? null) : null,
          reverses: event.type === 'TransferReversed' ? event.data.reverses : null,
          code: data.code ?? null,
          reference: data.reference ?? null,
          metadata: data.metadata,
          effectiveAt: data.effectiveAt,
          recordedAt: recorded.recordedAt,
          position: recorded.position,
        });
        if (event.type === 'TransferReversed') {
          const original = transfer(event.data.reverses);
          original.reversedAmount += amount;
          original.position = recorded.position;
        }
        if (held) pend(event, amount, data.effectiveAt, recorded, account, pendings);
        else post(event, amount, data.transferId, data.effectiveAt, recorded, account, entries);
        break;
      }
      case 'PendingTransferPosted': {
        const posted = BigInt(event.data.amount);
        const released = BigInt(event.data.released);
        const hold = transfer(event.data.transferId);
        hold.pendingAmount -= posted + released;
        hold.postedAmount += posted;
        hold.status = hold.pendingAmount === 0n ? 'posted' : 'pending';
        hold.position = recorded.position;
        // Pending first, then posted: between the two the account never shows the money twice.
        pend(event, -(posted + released), event.data.effectiveAt, recorded, account, pendings);
        post(event, posted, event.data.transferId, event.data.effectiveAt, recorded, account, entries);
        break;
      }
      case 'PendingTransferVoided':
      case 'PendingTransferExpired': {
        const released = BigInt(event.data.released);
        const hold = transfer(event.data.transferId);
        hold.pendingAmount -= released;
        assertMoney(hold.pendingAmount === 0n, `release of ${hold.id} leaves money held`);
        hold.status = hold.postedAmount > 0n ? 'posted' : event.type === 'PendingTransferVoided' ? 'voided' : 'expired';
        hold.position = recorded.position;
        // A void's or expiry's release takes effect when it is recorded.
        pend(event, -released, recorded.recordedAt, recorded, account, pendings);
        for (const id of [event.data.debitAccountId, event.data.creditAccountId]) {
          const row = account(id);
          row.version += 1n;
          row.position = recorded.position;
        }
        break;
      }
      default:
        // Events of other features (fraud scores, …) do not change these read models.
        break;
    }
  }
  return { accounts, transfers, entries, pendings };
}

/** The domain's own account at opening, plus what only the read model keeps. */
function opened(event: AccountOpened, position: bigint): AccountRow {
  const account = openedAccount(event);
  return {
    id: account.id,
    currency: account.currency,
    normalSide: account.normalSide,
    flags: account.flags,
    status: account.status,
    debitsPosted: account.debitsPosted,
    creditsPosted: account.creditsPosted,
    debitsPending: account.debitsPending,
    creditsPending: account.creditsPending,
    entryCount: 0n,
    version: BigInt(account.version),
    openedAt: account.openedAt,
    code: account.code ?? null,
    metadata: account.metadata,
    position,
  };
}

const sidesOf = (event: MoneyEvent) =>
  [
    ['debit', event.data.debitAccountId],
    ['credit', event.data.creditAccountId],
  ] as const;

/** Posted money: an entry on each side; the account's version moves once per event. */
function post(
  event: MoneyEvent,
  amount: bigint,
  transferId: string,
  effectiveAt: string,
  recorded: RecordedEvent,
  account: (id: string) => AccountRow,
  entries: EntryRow[],
): void {
  for (const [side, id] of sidesOf(event)) {
    const row = account(id);
    assertMoney(
      row.currency === event.data.currency,
      `transfer ${transferId} in ${event.data.currency} posts to ${row.id} in ${row.currency}`,
    );
    if (side === 'debit') row.debitsPosted += amount;
    else row.creditsPosted += amount;
    row.entryCount += 1n;
    row.version += 1n;
    row.position = recorded.position;
    entries.push({
      accountId: row.id,
      seq: row.entryCount,
      transferId,
      side,
      amount,
      balanceAfter: balanceOf(row),
      effectiveAt,
      recordedAt: recorded.recordedAt,
      position: recorded.position,
    });
  }
}

/** Held money taken (+) or given back (−) on each side. A hold moves the version; a post's version moves with its entry. */
function pend(
  event: MoneyEvent,
  delta: bigint,
  effectiveAt: string,
  recorded: RecordedEvent,
  account: (id: string) => AccountRow,
  pendings: PendingRow[],
): void {
  for (const [side, id] of sidesOf(event)) {
    const row = account(id);
    assertMoney(row.currency === event.data.currency, `hold ${event.data.transferId} on ${row.id}`);
    if (side === 'debit') row.debitsPending += delta;
    else row.creditsPending += delta;
    assertMoney(row.debitsPending >= 0n && row.creditsPending >= 0n, `pending of ${row.id} below zero`);
    if (event.type === 'TransferPending') {
      row.version += 1n;
      row.position = recorded.position;
    }
    if (delta !== 0n) {
      pendings.push({
        accountId: id,
        side,
        amount: delta,
        effectiveAt,
        recordedAt: recorded.recordedAt,
        position: recorded.position,
      });
    }
  }
}
