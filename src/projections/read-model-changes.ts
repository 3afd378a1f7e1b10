import { balanceOf, openedAccount } from '../domain/account';
import type { AccountOpened, LedgerEvent, TransferPosted } from '../domain/events';
import { assertMoney } from '../domain/money';
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
  code: string | null;
  reference: string | null;
  metadata: unknown;
  effectiveAt: string;
  recordedAt: string;
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

export interface ReadModelChanges {
  /** Accounts changed by the batch, in their state after it. */
  readonly accounts: Map<string, AccountRow>;
  readonly transfers: TransferRow[];
  readonly entries: EntryRow[];
}

/**
 * What a batch of the global log does to the read models, given the current rows of the
 * accounts it touches. Pure: the projector loads, calls this, and writes the result with its
 * checkpoint in one transaction.
 */
export function readModelChanges(
  events: readonly RecordedEvent[],
  current: ReadonlyMap<string, AccountRow>,
): ReadModelChanges {
  const accounts = new Map<string, AccountRow>();
  const transfers: TransferRow[] = [];
  const entries: EntryRow[] = [];
  const account = (id: string): AccountRow => {
    const row = accounts.get(id) ?? current.get(id);
    if (!row) throw new Error(`read model: event names account ${id}, which was never opened`);
    if (!accounts.has(id)) accounts.set(id, { ...row });
    return accounts.get(id)!;
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
        posted(event, recorded, account, transfers, entries);
        break;
      default:
        // Events of other features (fraud scores, …) do not change these read models.
        break;
    }
  }
  return { accounts, transfers, entries };
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
    entryCount: 0n,
    version: BigInt(account.version),
    openedAt: account.openedAt,
    code: account.code ?? null,
    metadata: account.metadata,
    position,
  };
}

function posted(
  event: TransferPosted,
  recorded: RecordedEvent,
  account: (id: string) => AccountRow,
  transfers: TransferRow[],
  entries: EntryRow[],
): void {
  const { data } = event;
  const amount = BigInt(data.amount);
  transfers.push({
    id: data.transferId,
    debitAccountId: data.debitAccountId,
    creditAccountId: data.creditAccountId,
    amount,
    currency: data.currency,
    code: data.code ?? null,
    reference: data.reference ?? null,
    metadata: data.metadata,
    effectiveAt: data.effectiveAt,
    recordedAt: recorded.recordedAt,
    position: recorded.position,
  });
  for (const side of ['debit', 'credit'] as const) {
    const row = account(side === 'debit' ? data.debitAccountId : data.creditAccountId);
    assertMoney(
      row.currency === data.currency,
      `transfer ${data.transferId} in ${data.currency} posts to ${row.id} in ${row.currency}`,
    );
    if (side === 'debit') row.debitsPosted += amount;
    else row.creditsPosted += amount;
    row.entryCount += 1n;
    row.version += 1n;
    row.position = recorded.position;
    entries.push({
      accountId: row.id,
      seq: row.entryCount,
      transferId: data.transferId,
      side,
      amount,
      balanceAfter: balanceOf(row),
      effectiveAt: data.effectiveAt,
      recordedAt: recorded.recordedAt,
      position: recorded.position,
    });
  }
}
