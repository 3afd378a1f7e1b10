import type { DomainEvent, DomainEventType } from '../../src/domain/events';

const transfer = {
  transferId: 't-1',
  debitAccountId: 'bank',
  creditAccountId: 'alice',
  amount: '1050',
  currency: 'USD',
  code: 'fee',
  reference: 'invoice 7',
  metadata: { k: 'v' },
  effectiveAt: '2026-01-31T23:59:59.999Z',
};
const release = { transferId: 'h-1', debitAccountId: 'alice', creditAccountId: 'bob', currency: 'USD', released: '0' };

/** One valid event of every type the ledger records, with every optional field set. */
export const EVENT_SAMPLES: { readonly [T in DomainEventType]: Extract<DomainEvent, { type: T }> } = {
  AccountOpened: {
    type: 'AccountOpened',
    data: {
      accountId: 'alice',
      currency: 'USD',
      normalSide: 'credit',
      flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false },
      code: 'c1',
      metadata: { team: 'payments' },
      openedAt: '2026-01-01T00:00:00.000Z',
    },
  },
  AccountFrozen: { type: 'AccountFrozen', data: { accountId: 'alice', reason: 'chargeback' } },
  AccountUnfrozen: { type: 'AccountUnfrozen', data: { accountId: 'alice', reason: 'cleared' } },
  AccountClosed: { type: 'AccountClosed', data: { accountId: 'alice', reason: 'gone' } },
  TransferPosted: { type: 'TransferPosted', data: transfer },
  TransferPending: { type: 'TransferPending', data: { ...transfer, expiresAt: '2026-02-01T00:00:00.000Z' } },
  PendingTransferPosted: {
    type: 'PendingTransferPosted',
    data: { ...release, postId: 'p-1', amount: '5', effectiveAt: '2026-01-31T00:00:00.000Z' },
  },
  PendingTransferVoided: { type: 'PendingTransferVoided', data: { ...release, voidId: 'v-1', reason: 'no' } },
  PendingTransferExpired: {
    type: 'PendingTransferExpired',
    data: { ...release, released: '7', expiresAt: '2026-02-01T00:00:00.000Z' },
  },
  TransferReversed: {
    type: 'TransferReversed',
    data: { ...transfer, transferId: 'r-1', reverses: 't-1', reason: 'refund' },
  },
  FraudScored: {
    type: 'FraudScored',
    data: {
      transferId: 't-1',
      score: 0.25,
      modelVersion: 'fraud-v1.onnx@0123456789ab',
      decision: 'allow',
      features: [1, 0.5, -2],
      featuresSha256: 'a'.repeat(64),
    },
  },
  FraudReviewResolved: {
    type: 'FraudReviewResolved',
    data: {
      transferId: 't-1',
      reviewId: 'rv-1',
      outcome: 'legitimate',
      note: 'checked',
      resolvedAt: '2026-02-01T00:00:00.000Z',
    },
  },
  PeriodClosed: {
    type: 'PeriodClosed',
    data: {
      through: '2026-01-31T23:59:59.999Z',
      reason: 'January',
      closedBy: 'admin-key',
      previousThrough: '2025-12-31T23:59:59.999Z',
    },
  },
  AdjustmentRequested: {
    type: 'AdjustmentRequested',
    data: {
      adjustmentId: 'adj-1',
      transfer: { ...transfer, transferId: 'adj-1' },
      closedThrough: '2026-01-31T23:59:59.999Z',
      requestedBy: 'ops-key',
    },
  },
  AdjustmentApproved: {
    type: 'AdjustmentApproved',
    data: { adjustmentId: 'adj-1', transferId: 'adj-1', requestedBy: 'ops-key', approvedBy: 'admin-key' },
  },
};
