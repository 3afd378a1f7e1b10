/**
 * Closed periods and prior-period adjustments as specifications: given the closes (and accounts),
 * when a command is decided at a fixed clock, then the events it yields or the refusal.
 */
import { describe, expect, it } from 'vitest';
import type { Account } from './account';
import {
  type Adjustment,
  type ClosedPeriods,
  NO_CLOSED_PERIODS,
  type PeriodClosed,
  closedPeriodRefusal,
  decideApproveAdjustment,
  decideClosePeriod,
  decideRequestAdjustment,
  evolveAdjustment,
  evolvePeriods,
} from './closed-period';
import { type LedgerError, type LedgerErrorSlug, isLedgerError } from './errors';
import type { MoneyEvent } from './events';

const NOW = '2026-07-15T12:00:00.000Z';
const Q2_END = '2026-06-30T23:59:59.999Z';
const IN_Q2 = '2026-06-10T09:00:00.000Z';
const IN_Q3 = '2026-07-01T00:00:00.000Z';
const ADMIN = 'key-admin';
const OPERATOR = 'key-operator';

const closed = (through: string): PeriodClosed => ({
  type: 'PeriodClosed',
  data: { through, reason: 'quarter end', closedBy: ADMIN },
});
const periodsOf = (...closes: PeriodClosed[]): ClosedPeriods => closes.reduce(evolvePeriods, NO_CLOSED_PERIODS);

const account = (id: string, creditsPosted = 0n, bounded = false): Account => ({
  id,
  currency: 'USD',
  normalSide: 'credit',
  flags: { debitsMustNotExceedCredits: bounded, creditsMustNotExceedDebits: false },
  status: 'open',
  version: 1,
  metadata: {},
  openedAt: '2026-01-01T00:00:00.000Z',
  debitsPosted: 0n,
  creditsPosted,
  debitsPending: 0n,
  creditsPending: 0n,
});

type Decision<T> = T | null | LedgerError;

/** given the closes so far … when a decision … then its outcome. */
const given = (...closes: PeriodClosed[]) => {
  const periods = periodsOf(...closes);
  return {
    periods,
    when: <T>(decide: (periods: ClosedPeriods) => Decision<T>) => {
      const outcome = decide(periods);
      return {
        // biome-ignore lint/suspicious/noThenProperty: given/when/then reads as a specification; never awaited
        then: (expected: T) => expect(outcome).toEqual(expected),
        thenNothing: () => expect(outcome).toBeNull(),
        thenFails: (slug: LedgerErrorSlug, detail?: RegExp) => {
          expect(isLedgerError(outcome), `expected refusal ${slug}, got ${JSON.stringify(outcome)}`).toBe(true);
          expect((outcome as LedgerError).slug).toBe(slug);
          if (detail) expect((outcome as LedgerError).detail).toMatch(detail);
        },
      };
    },
  };
};

/** `actor: null`: no API key. */
const close =
  (through: string, actor: string | null = ADMIN) =>
  (periods: ClosedPeriods) =>
    decideClosePeriod({ type: 'ClosePeriod', through, reason: 'quarter end' }, periods, actor ?? undefined, NOW);

const posted = (effectiveAt: string): MoneyEvent => ({
  type: 'TransferPosted',
  data: {
    transferId: 't',
    debitAccountId: 'a',
    creditAccountId: 'b',
    amount: '5',
    currency: 'USD',
    metadata: {},
    effectiveAt,
  },
});

const adjustmentCommand = (effectiveAt: string, amount = 5n) => ({
  type: 'RequestAdjustment' as const,
  transfer: {
    type: 'PostTransfer' as const,
    transferId: 'adj-1',
    debitAccountId: 'a',
    creditAccountId: 'b',
    amount,
    currency: 'USD',
    metadata: {},
    effectiveAt,
  },
});

describe('closing periods', () => {
  it('closes the books through an instant in the past, naming who closed them', () => {
    given()
      .when(close(Q2_END))
      .then({ type: 'PeriodClosed', data: { through: Q2_END, reason: 'quarter end', closedBy: ADMIN } });
  });

  it('a later close names the one it supersedes', () => {
    given(closed('2026-03-31T23:59:59.999Z'))
      .when(close(Q2_END))
      .then({
        type: 'PeriodClosed',
        data: { through: Q2_END, reason: 'quarter end', closedBy: ADMIN, previousThrough: '2026-03-31T23:59:59.999Z' },
      });
  });

  it('the same close again changes nothing', () => {
    given(closed(Q2_END)).when(close(Q2_END)).thenNothing();
  });

  it('is monotonic: an earlier close is refused, nothing reopens', () => {
    given(closed(Q2_END))
      .when(close('2026-05-31T23:59:59.999Z'))
      .thenFails('period-close-not-later', /closed through 2026-06-30T23:59:59.999Z/);
  });

  it('only a period that is over can close (through is before now)', () => {
    given().when(close(NOW)).thenFails('period-not-over');
    given().when(close('2026-08-01T00:00:00.000Z')).thenFails('period-not-over');
  });

  it('needs the identity of an API key', () => {
    given().when(close(Q2_END, null)).thenFails('actor-required');
  });
});

describe('postings against closed periods', () => {
  const periods = periodsOf(closed(Q2_END));

  it('refuses anything that counts at or before through, and nothing after it', () => {
    expect(closedPeriodRefusal(posted(IN_Q2), periods)?.slug).toBe('period-closed');
    expect(closedPeriodRefusal(posted(Q2_END), periods)?.slug).toBe('period-closed');
    expect(closedPeriodRefusal(posted(IN_Q3), periods)).toBeUndefined();
    expect(closedPeriodRefusal(posted(IN_Q2), NO_CLOSED_PERIODS)).toBeUndefined();
  });

  it('the refusal says how to post it anyway', () => {
    expect(closedPeriodRefusal(posted(IN_Q2), periods)?.detail).toMatch(/adjustment: true/);
  });

  it('a release of a hold (void, expiry) counts when recorded: never refused', () => {
    const voided: MoneyEvent = {
      type: 'PendingTransferVoided',
      data: { transferId: 'h', debitAccountId: 'a', creditAccountId: 'b', currency: 'USD', released: '5', voidId: 'v' },
    };
    expect(closedPeriodRefusal(voided, periods)).toBeUndefined();
  });
});

describe('prior-period adjustments', () => {
  const a = account('a');
  const b = account('b');
  const request =
    (effectiveAt: string, actor: string | null = OPERATOR, debit = a) =>
    (p: ClosedPeriods) =>
      decideRequestAdjustment(adjustmentCommand(effectiveAt), p, debit, b, actor ?? undefined, NOW);

  it('is requested into a closed period, moving no money: the transfer is nested, not a money event', () => {
    given(closed(Q2_END))
      .when(request(IN_Q2))
      .then({
        type: 'AdjustmentRequested',
        data: {
          adjustmentId: 'adj-1',
          transfer: {
            transferId: 'adj-1',
            debitAccountId: 'a',
            creditAccountId: 'b',
            amount: '5',
            currency: 'USD',
            metadata: {},
            effectiveAt: IN_Q2,
          },
          closedThrough: Q2_END,
          requestedBy: OPERATOR,
        },
      });
  });

  it('outside a closed period it is an ordinary transfer, and refused as an adjustment', () => {
    given(closed(Q2_END))
      .when(request(IN_Q3))
      .thenFails('not-in-closed-period', /without adjustment/);
    given()
      .when(request(IN_Q2))
      .thenFails('not-in-closed-period', /no period is closed/);
  });

  it('is decided like its transfer (funds, accounts)', () => {
    given(closed(Q2_END))
      .when(request(IN_Q2, OPERATOR, account('a', 0n, true)))
      .thenFails('insufficient-funds');
  });

  it('needs the identity of an API key', () => {
    given(closed(Q2_END)).when(request(IN_Q2, null)).thenFails('actor-required');
  });

  describe('approval (four eyes)', () => {
    const requested = decideRequestAdjustment(adjustmentCommand(IN_Q2), periodsOf(closed(Q2_END)), a, b, OPERATOR, NOW);
    if (isLedgerError(requested)) throw new Error('the request above is valid');
    const pending: Adjustment = evolveAdjustment(undefined, requested, NOW);
    const approve =
      (actor: string | undefined, adjustment = pending, debit = a) =>
      () =>
        decideApproveAdjustment(adjustment, debit, b, actor, NOW);

    it('another key approves: the transfer posts at its effectiveAt in the closed period', () => {
      given(closed(Q2_END))
        .when(approve(ADMIN))
        .then({
          approved: {
            type: 'AdjustmentApproved',
            data: { adjustmentId: 'adj-1', transferId: 'adj-1', requestedBy: OPERATOR, approvedBy: ADMIN },
          },
          posted: { type: 'TransferPosted', data: requested.data.transfer },
        });
    });

    it('the requester cannot approve it', () => {
      given(closed(Q2_END))
        .when(approve(OPERATOR))
        .thenFails('self-approval', /another API key/);
    });

    it('approved once: a second approval changes nothing (the first approver stands)', () => {
      const approved = decideApproveAdjustment(pending, a, b, ADMIN, NOW);
      if (!approved || isLedgerError(approved)) throw new Error('approval above is valid');
      const after = evolveAdjustment(pending, approved.approved, NOW);
      expect(after).toMatchObject({ status: 'approved', approvedBy: ADMIN, requestedBy: OPERATOR });
      given(closed(Q2_END)).when(approve('key-third', after)).thenNothing();
      given(closed(Q2_END)).when(approve(OPERATOR, after)).thenFails('self-approval');
    });

    it('is decided again against the accounts as they are now', () => {
      given(closed(Q2_END))
        .when(approve(ADMIN, pending, account('a', 0n, true)))
        .thenFails('insufficient-funds');
    });
  });
});
