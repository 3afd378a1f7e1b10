import { describe, expect, it } from 'vitest';
import { type Account, availableOf, evolveAccount, openedAccount } from './account';
import { isLedgerError } from './errors';
import type { LedgerEvent, MoneyEvent } from './events';
import { NOW, opened, posted } from '../../test/domain-support/given';
import { decideExpirePending, decidePostPending, decideVoidPending } from './hold';
import { decideReversal } from './reversal';
import { decideTransfer } from './transfer';
import { type TransferState, evolveTransfer, replayTransfer } from './transfer-state';

/**
 * Holds and reversals as specifications: given a history of the accounts' and the hold's events,
 * when a command is decided at NOW, then it records this event (and these totals) or is refused so.
 */
const card = 'card';
const shop = 'shop';
const LATER = '2025-07-01T00:00:00.000Z';

interface World {
  accounts: Map<string, Account>;
  transfers: Map<string, TransferState>;
}

function given(events: readonly LedgerEvent[]): World {
  const world: World = { accounts: new Map(), transfers: new Map() };
  for (const event of events) record(world, event);
  return world;
}

function record(world: World, event: LedgerEvent): void {
  if (event.type === 'AccountOpened') {
    world.accounts.set(event.data.accountId, openedAccount(event));
    return;
  }
  const money = event as MoneyEvent;
  for (const id of [money.data.debitAccountId, money.data.creditAccountId]) {
    world.accounts.set(id, evolveAccount(world.accounts.get(id)!, money));
  }
  const own = world.transfers.get(money.data.transferId);
  if (event.type === 'TransferReversed') {
    world.transfers.set(event.data.reverses, evolveTransfer(world.transfers.get(event.data.reverses), event));
    world.transfers.set(event.data.transferId, evolveTransfer(undefined, event));
  } else {
    world.transfers.set(money.data.transferId, evolveTransfer(own, event));
  }
}

/** A card funded with 100, a shop; the card is bounded by its credits. */
const funded = (): LedgerEvent[] => [
  opened(card, { flags: { debitsMustNotExceedCredits: true } }),
  opened(shop),
  opened('bank'),
  posted({ debit: 'bank', credit: card, amount: 100n, transferId: 'fund' }),
];

const hold = (amount: bigint, options: { id?: string; expiresAt?: string } = {}) =>
  decideTransfer(
    {
      type: 'PostTransfer',
      transferId: options.id ?? 'h1',
      debitAccountId: card,
      creditAccountId: shop,
      amount,
      currency: 'USD',
      metadata: {},
      pending: true,
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    },
    openedAccount(opened(card)),
    openedAccount(opened(shop)),
    NOW,
  );

function holdOf(world: World, amount: bigint, id = 'h1', expiresAt?: string): void {
  const event = decideTransfer(
    {
      type: 'PostTransfer',
      transferId: id,
      debitAccountId: card,
      creditAccountId: shop,
      amount,
      currency: 'USD',
      metadata: {},
      pending: true,
      ...(expiresAt ? { expiresAt } : {}),
    },
    world.accounts.get(card)!,
    world.accounts.get(shop)!,
    NOW,
  );
  if (isLedgerError(event)) throw new Error(event.detail);
  record(world, event);
}

const post = (world: World, amount: bigint | undefined, final = true, id = 'p1', at = NOW) =>
  decidePostPending(
    {
      type: 'PostPendingTransfer',
      postId: id,
      transferId: 'h1',
      ...(amount !== undefined ? { amount } : {}),
      final,
    },
    world.transfers.get('h1')!,
    world.accounts.get(card)!,
    world.accounts.get(shop)!,
    at,
  );

const totals = (account: Account) => ({
  debitsPosted: account.debitsPosted,
  creditsPosted: account.creditsPosted,
  debitsPending: account.debitsPending,
  creditsPending: account.creditsPending,
  available: availableOf(account),
});

describe('a hold', () => {
  it('reserves its amount on both sides and moves no posted money', () => {
    const world = given(funded());
    holdOf(world, 60n);
    expect(totals(world.accounts.get(card)!)).toStrictEqual({
      debitsPosted: 0n,
      creditsPosted: 100n,
      debitsPending: 60n,
      creditsPending: 0n,
      available: 40n,
    });
    expect(world.accounts.get(shop)!.creditsPending).toBe(60n);
    expect(world.transfers.get('h1')).toMatchObject({ status: 'pending', pendingAmount: 60n, postedAmount: 0n });
  });

  it('counts against the bound: a second hold beyond what remains is insufficient-funds', () => {
    const world = given(funded());
    holdOf(world, 60n);
    const second = decideTransfer(
      {
        type: 'PostTransfer',
        transferId: 'h2',
        debitAccountId: card,
        creditAccountId: shop,
        amount: 41n,
        currency: 'USD',
        metadata: {},
        pending: true,
      },
      world.accounts.get(card)!,
      world.accounts.get(shop)!,
      NOW,
    );
    expect(isLedgerError(second) && second.slug).toBe('insufficient-funds');
  });

  it('counts against a plain transfer too: holds included, 40 is the most that can still be debited', () => {
    const world = given(funded());
    holdOf(world, 60n);
    const debit = (amount: bigint) =>
      decideTransfer(
        {
          type: 'PostTransfer',
          transferId: 't',
          debitAccountId: card,
          creditAccountId: shop,
          amount,
          currency: 'USD',
          metadata: {},
        },
        world.accounts.get(card)!,
        world.accounts.get(shop)!,
        NOW,
      );
    expect(isLedgerError(debit(41n))).toBe(true);
    expect(debit(40n)).toMatchObject({ type: 'TransferPosted' });
  });

  it('carries its expiresAt into TransferPending', () => {
    expect(hold(5n, { expiresAt: LATER })).toMatchObject({ type: 'TransferPending', data: { expiresAt: LATER } });
  });
});

describe('posting a hold', () => {
  it('in part with final (the default) posts that part and releases the rest: posted', () => {
    const world = given(funded());
    holdOf(world, 60n);
    const event = post(world, 45n);
    expect(event).toStrictEqual({
      type: 'PendingTransferPosted',
      data: {
        transferId: 'h1',
        debitAccountId: card,
        creditAccountId: shop,
        currency: 'USD',
        released: '15',
        postId: 'p1',
        amount: '45',
        effectiveAt: NOW,
      },
    });
    record(world, event as MoneyEvent);
    expect(totals(world.accounts.get(card)!)).toMatchObject({ debitsPosted: 45n, debitsPending: 0n, available: 55n });
    expect(totals(world.accounts.get(shop)!)).toMatchObject({ creditsPosted: 45n, creditsPending: 0n });
    expect(world.transfers.get('h1')).toMatchObject({ status: 'posted', pendingAmount: 0n, postedAmount: 45n });
  });

  it('in part with final: false keeps the rest held, and posts that use it all up make it posted', () => {
    const world = given(funded());
    holdOf(world, 60n);
    record(world, post(world, 20n, false, 'p1') as MoneyEvent);
    expect(world.transfers.get('h1')).toMatchObject({ status: 'pending', pendingAmount: 40n, postedAmount: 20n });
    expect(world.accounts.get(card)!.debitsPending).toBe(40n);
    record(world, post(world, 40n, false, 'p2') as MoneyEvent);
    expect(world.transfers.get('h1')).toMatchObject({ status: 'posted', pendingAmount: 0n, postedAmount: 60n });
  });

  it('with no amount posts all that is still held', () => {
    const world = given(funded());
    holdOf(world, 60n);
    record(world, post(world, 10n, false, 'p1') as MoneyEvent);
    expect(post(world, undefined, true, 'p2')).toMatchObject({ data: { amount: '50', released: '0' } });
  });

  it('for more than remains is exceeds-pending', () => {
    const world = given(funded());
    holdOf(world, 60n);
    record(world, post(world, 50n, false) as MoneyEvent);
    const refused = post(world, 11n, true, 'p2');
    expect(isLedgerError(refused) && refused.slug).toBe('exceeds-pending');
  });

  it('once posted, voided or expired is transfer-not-pending', () => {
    for (const end of ['post', 'void', 'expire'] as const) {
      const world = given(funded());
      holdOf(world, 60n, 'h1', LATER);
      const h = world.transfers.get('h1')!;
      const ending =
        end === 'post'
          ? post(world, 60n)
          : end === 'void'
            ? decideVoidPending({ type: 'VoidPendingTransfer', voidId: 'v', transferId: 'h1' }, h, NOW)
            : decideExpirePending(h, LATER);
      record(world, ending as MoneyEvent);
      const again = post(world, 1n, true, 'p9', NOW);
      expect(isLedgerError(again) && again.slug, end).toBe('transfer-not-pending');
      const voidAgain = decideVoidPending(
        { type: 'VoidPendingTransfer', voidId: 'v2', transferId: 'h1' },
        world.transfers.get('h1')!,
        NOW,
      );
      expect(isLedgerError(voidAgain) && voidAgain.slug, end).toBe('transfer-not-pending');
    }
  });

  it('after its expiresAt is transfer-not-pending even before the expiry is recorded', () => {
    const world = given(funded());
    holdOf(world, 60n, 'h1', LATER);
    const late = post(world, 1n, true, 'p1', LATER);
    expect(isLedgerError(late) && late.slug).toBe('transfer-not-pending');
  });

  it('of a plain transfer is transfer-not-pending', () => {
    const world = given(funded());
    const fund = world.transfers.get('fund')!;
    const refused = decideVoidPending({ type: 'VoidPendingTransfer', voidId: 'v', transferId: 'fund' }, fund, NOW);
    expect(isLedgerError(refused) && refused.slug).toBe('transfer-not-pending');
  });

  it('effective before the hold, or in the future, is effective-time-out-of-range', () => {
    const world = given(funded());
    holdOf(world, 60n);
    const hold = world.transfers.get('h1')!;
    const at = (effectiveAt: string) =>
      decidePostPending(
        { type: 'PostPendingTransfer', postId: 'p', transferId: 'h1', final: true, effectiveAt },
        hold,
        world.accounts.get(card)!,
        world.accounts.get(shop)!,
        NOW,
      );
    for (const effectiveAt of ['2025-06-30T11:59:59.999Z', LATER]) {
      const refused = at(effectiveAt);
      expect(isLedgerError(refused) && refused.slug, effectiveAt).toBe('effective-time-out-of-range');
    }
  });

  it('on a frozen account is account-not-open, while a void still releases it', () => {
    const world = given(funded());
    holdOf(world, 60n);
    world.accounts.set(
      card,
      evolveAccount(world.accounts.get(card)!, { type: 'AccountFrozen', data: { accountId: card, reason: 'x' } }),
    );
    const refused = post(world, 1n);
    expect(isLedgerError(refused) && refused.slug).toBe('account-not-open');
    const voided = decideVoidPending(
      { type: 'VoidPendingTransfer', voidId: 'v', transferId: 'h1', reason: 'fraud' },
      world.transfers.get('h1')!,
      NOW,
    );
    expect(voided).toMatchObject({ type: 'PendingTransferVoided', data: { released: '60', reason: 'fraud' } });
  });
});

describe('voiding and expiring a hold', () => {
  it('a void releases all still held: voided, and both pending totals back to zero', () => {
    const world = given(funded());
    holdOf(world, 60n);
    record(
      world,
      decideVoidPending(
        { type: 'VoidPendingTransfer', voidId: 'v', transferId: 'h1' },
        world.transfers.get('h1')!,
        NOW,
      ) as MoneyEvent,
    );
    expect(world.transfers.get('h1')).toMatchObject({ status: 'voided', pendingAmount: 0n });
    expect(totals(world.accounts.get(card)!)).toMatchObject({ debitsPending: 0n, available: 100n });
    expect(world.accounts.get(shop)!.creditsPending).toBe(0n);
  });

  it('a partly posted hold voided is posted, keeping what was posted', () => {
    const world = given(funded());
    holdOf(world, 60n);
    record(world, post(world, 10n, false) as MoneyEvent);
    record(
      world,
      decideVoidPending(
        { type: 'VoidPendingTransfer', voidId: 'v', transferId: 'h1' },
        world.transfers.get('h1')!,
        NOW,
      ) as MoneyEvent,
    );
    expect(world.transfers.get('h1')).toMatchObject({ status: 'posted', postedAmount: 10n, pendingAmount: 0n });
  });

  it('expiry waits for expiresAt, releases once, and is nothing to do for a hold already settled', () => {
    const world = given(funded());
    holdOf(world, 60n, 'h1', LATER);
    expect(decideExpirePending(world.transfers.get('h1')!, NOW)).toBeNull();
    const expired = decideExpirePending(world.transfers.get('h1')!, LATER);
    expect(expired).toMatchObject({ type: 'PendingTransferExpired', data: { released: '60', expiresAt: LATER } });
    record(world, expired!);
    expect(world.transfers.get('h1')!.status).toBe('expired');
    expect(decideExpirePending(world.transfers.get('h1')!, LATER)).toBeNull();
    expect(world.accounts.get(card)!.debitsPending).toBe(0n);
  });

  it('a hold without expiresAt never expires', () => {
    const world = given(funded());
    holdOf(world, 60n);
    expect(decideExpirePending(world.transfers.get('h1')!, '2099-01-01T00:00:00.000Z')).toBeNull();
  });
});

describe('reversing a transfer', () => {
  const reverse = (world: World, id: string, amount?: bigint, target = 'fund') => {
    const original = world.transfers.get(target)!;
    return decideReversal(
      {
        type: 'ReverseTransfer',
        reversalId: id,
        transferId: target,
        ...(amount !== undefined ? { amount } : {}),
        reason: 'refund',
      },
      original,
      world.accounts.get(original.creditAccountId)!,
      world.accounts.get(original.debitAccountId)!,
      NOW,
    );
  };

  it('posts the original backwards and grows its reversedAmount; by default all that is reversible', () => {
    const world = given([...funded(), posted({ debit: card, credit: shop, amount: 30n, transferId: 'buy' })]);
    const event = reverse(world, 'r1', 10n, 'buy');
    expect(event).toMatchObject({
      type: 'TransferReversed',
      data: { transferId: 'r1', reverses: 'buy', debitAccountId: shop, creditAccountId: card, amount: '10' },
    });
    record(world, event as MoneyEvent);
    expect(world.transfers.get('buy')!.reversedAmount).toBe(10n);
    expect(world.transfers.get('r1')).toMatchObject({ reverses: 'buy', postedAmount: 10n, status: 'posted' });
    expect(reverse(world, 'r2', undefined, 'buy')).toMatchObject({ data: { amount: '20' } });
  });

  it('beyond what is left is exceeds-reversible, and so is a hold that posted nothing', () => {
    const world = given([...funded(), posted({ debit: card, credit: shop, amount: 30n, transferId: 'buy' })]);
    record(world, reverse(world, 'r1', 30n, 'buy') as MoneyEvent);
    const refused = reverse(world, 'r2', 1n, 'buy');
    expect(isLedgerError(refused) && refused.slug).toBe('exceeds-reversible');
    holdOf(world, 10n);
    const ofHold = reverse(world, 'r3', undefined, 'h1');
    expect(isLedgerError(ofHold) && ofHold.slug).toBe('exceeds-reversible');
  });

  it('of a partly posted hold is bounded by what it posted', () => {
    const world = given(funded());
    holdOf(world, 60n);
    record(world, post(world, 25n) as MoneyEvent);
    const refused = reverse(world, 'r1', 26n, 'h1');
    expect(isLedgerError(refused) && refused.slug).toBe('exceeds-reversible');
    expect(reverse(world, 'r1', 25n, 'h1')).toMatchObject({ type: 'TransferReversed' });
  });

  it('obeys the bound of the account it debits', () => {
    // The bank funded the card; the card is bounded and has spent 70 of the 100: only 30 can go back.
    const world = given([...funded(), posted({ debit: card, credit: shop, amount: 70n, transferId: 'buy' })]);
    const refused = reverse(world, 'r1', 31n, 'fund');
    expect(isLedgerError(refused) && refused.slug).toBe('insufficient-funds');
  });
});

describe('a transfer stream', () => {
  it('replays to the state kept step by step', () => {
    const world = given(funded());
    holdOf(world, 60n);
    const events: LedgerEvent[] = [];
    const first = hold(60n);
    events.push(first as LedgerEvent);
    const p1 = post(world, 20n, false);
    record(world, p1 as MoneyEvent);
    events.push(p1 as LedgerEvent);
    expect(replayTransfer(events)).toStrictEqual(world.transfers.get('h1'));
  });

  it('crashes on a post of more than it holds (a decision bug, never input)', () => {
    const state = replayTransfer([hold(10n) as LedgerEvent])!;
    expect(() =>
      evolveTransfer(state, {
        type: 'PendingTransferPosted',
        data: {
          transferId: 'h1',
          debitAccountId: card,
          creditAccountId: shop,
          currency: 'USD',
          released: '0',
          postId: 'p',
          amount: '11',
          effectiveAt: NOW,
        },
      }),
    ).toThrow(/money invariant violated/);
  });
});
