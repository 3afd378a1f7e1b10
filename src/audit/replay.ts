import { balanceOf } from '../domain/account';
import type { AccountOpened, TransferPosted } from '../domain/events';
import type { EventStore, RecordedEvent } from '../eventstore/port';

export interface ReplayRequest {
  readonly asOf: string;
  readonly knownAt: string;
  /** Only these accounts; all accounts known at `knownAt` when absent. */
  readonly accountIds?: readonly string[];
}

export interface ReplayedAccount {
  readonly accountId: string;
  readonly currency: string;
  readonly normalSide: 'debit' | 'credit';
  debitsPosted: bigint;
  creditsPosted: bigint;
}

/**
 * Balances at asOf as known at knownAt, folded from the log's events alone (DESIGN.md, "Time, for
 * auditors"): postings with effectiveAt <= asOf and recordedAt <= knownAt. Pure; the caller
 * feeds it the log in order. It never looks at a read model.
 */
export class ReplayFold {
  private readonly accounts = new Map<string, ReplayedAccount>();
  private readonly wanted: ReadonlySet<string> | undefined;
  eventsReplayed = 0;
  position = 0n;

  constructor(private readonly request: ReplayRequest) {
    this.wanted = request.accountIds ? new Set(request.accountIds) : undefined;
  }

  apply(events: readonly RecordedEvent[]): void {
    const { asOf, knownAt } = this.request;
    for (const event of events) {
      this.eventsReplayed++;
      this.position = event.position;
      if (event.recordedAt > knownAt) continue;
      if (event.type === 'AccountOpened') {
        const data = event.data as AccountOpened['data'];
        if (this.wanted && !this.wanted.has(data.accountId)) continue;
        this.accounts.set(data.accountId, {
          accountId: data.accountId,
          currency: data.currency,
          normalSide: data.normalSide,
          debitsPosted: 0n,
          creditsPosted: 0n,
        });
      } else if (event.type === 'TransferPosted') {
        const data = event.data as TransferPosted['data'];
        if (data.effectiveAt > asOf) continue;
        const amount = BigInt(data.amount);
        const debit = this.accounts.get(data.debitAccountId);
        if (debit) debit.debitsPosted += amount;
        const credit = this.accounts.get(data.creditAccountId);
        if (credit) credit.creditsPosted += amount;
      }
    }
  }

  /** The accounts replayed, by id. */
  result(): ReplayedAccount[] {
    return [...this.accounts.values()].sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
  }

  /** Requested accounts the log did not know at knownAt. */
  missing(): string[] {
    return this.request.accountIds ? this.request.accountIds.filter((id) => !this.accounts.has(id)) : [];
  }
}

export interface ReplayProgress {
  readonly eventsReplayed: number;
  readonly position: bigint;
  readonly head: bigint;
}

/**
 * Reads the global log after `from` to its end, a page at a time with the next page already on its
 * way while one is folded, into `fold`. Returns the last position read.
 */
export async function foldLog(
  store: EventStore,
  fold: ReplayFold,
  options: { pageSize: number; from?: bigint; onProgress?: (progress: ReplayProgress) => void },
): Promise<bigint> {
  const head = await store.headPosition();
  let after = options.from ?? 0n;
  let next = store.readAll({ after, limit: options.pageSize });
  for (;;) {
    const page = await next;
    if (page.length === 0) return after;
    after = page.at(-1)!.position;
    next = store.readAll({ after, limit: options.pageSize });
    fold.apply(page);
    options.onProgress?.({ eventsReplayed: fold.eventsReplayed, position: after, head: head > after ? head : after });
  }
}

export interface ReplayReportAccount {
  readonly accountId: string;
  readonly currency: string;
  readonly balance: string;
  readonly debitsPosted: string;
  readonly creditsPosted: string;
  /** The read model's balance at the same asOf and knownAt; null when it has no such account. */
  readonly readModelBalance: string | null;
  readonly matches: boolean;
}

/** POST /v1/audit/replay's body (DESIGN.md, HTTP contract). */
export interface ReplayReport {
  readonly asOf: string;
  readonly knownAt: string;
  readonly eventsReplayed: number;
  readonly accounts: ReplayReportAccount[];
  readonly mismatches: number;
}

/** What the replay compares against: the read model's balance at (asOf, knownAt), by the index. */
export type ReadModelBalance = (accountId: string, asOf: string, knownAt: string) => Promise<{ debitsPosted: bigint; creditsPosted: bigint; normalSide: 'debit' | 'credit' } | undefined>;

export class NotCaughtUpError extends Error {
  constructor(readonly position: bigint) {
    super(`the read models have not reached position ${position} of the log`);
  }
}

export class UnknownAccountsError extends Error {
  constructor(readonly accountIds: readonly string[], knownAt: string) {
    super(`no account ${accountIds.join(', ')} as known at ${knownAt}`);
  }
}

const COMPARE_ROUNDS_MAX = 5;

/**
 * A replay from the event store, compared account by account with the read models. The read models
 * are consulted only for `readModelBalance`, after they have caught up with the last position
 * replayed; events committed meanwhile are folded in and their accounts compared again, so a
 * busy ledger does not show passing writes as mismatches.
 */
export async function replayAndCompare(
  store: EventStore,
  request: ReplayRequest,
  deps: {
    readModelBalance: ReadModelBalance;
    /** Resolves true once the read models include `position`. */
    waitForReadModels: (position: bigint) => Promise<boolean>;
    pageSize: number;
    onProgress?: (progress: ReplayProgress) => void;
  },
): Promise<ReplayReport> {
  const fold = new ReplayFold(request);
  let position = await foldLog(store, fold, { pageSize: deps.pageSize, onProgress: deps.onProgress });
  const missing = fold.missing();
  if (missing.length > 0) throw new UnknownAccountsError(missing, request.knownAt);

  const readModel = new Map<string, { balance: string; totals: string } | null>();
  let toCompare = fold.result().map((a) => a.accountId);
  for (let round = 1; ; round++) {
    if (!(await deps.waitForReadModels(position))) throw new NotCaughtUpError(position);
    for (const accountId of toCompare) {
      const view = await deps.readModelBalance(accountId, request.asOf, request.knownAt);
      readModel.set(accountId, view ? { balance: balanceOf(view).toString(), totals: `${view.debitsPosted}/${view.creditsPosted}` } : null);
    }
    const before = new Map(fold.result().map((a) => [a.accountId, `${a.debitsPosted}/${a.creditsPosted}`]));
    const moved = await foldLog(store, fold, { pageSize: deps.pageSize, from: position });
    if (moved === position || round >= COMPARE_ROUNDS_MAX) break;
    position = moved;
    toCompare = fold.result().filter((a) => before.get(a.accountId) !== `${a.debitsPosted}/${a.creditsPosted}`).map((a) => a.accountId);
    if (toCompare.length === 0) break;
  }

  const accounts = fold.result().map((account): ReplayReportAccount => {
    const balance = balanceOf(account).toString();
    const fromReadModel = readModel.get(account.accountId) ?? null;
    const readModelBalance = fromReadModel?.balance ?? null;
    return {
      accountId: account.accountId,
      currency: account.currency,
      balance,
      debitsPosted: account.debitsPosted.toString(),
      creditsPosted: account.creditsPosted.toString(),
      readModelBalance,
      // Both totals, not only their difference: +1 on each side would leave the balance right.
      matches: fromReadModel?.totals === `${account.debitsPosted}/${account.creditsPosted}`,
    };
  });
  return {
    asOf: request.asOf,
    knownAt: request.knownAt,
    eventsReplayed: fold.eventsReplayed,
    accounts,
    mismatches: accounts.filter((a) => !a.matches).length,
  };
}
