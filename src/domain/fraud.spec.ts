import { describe, expect, it } from 'vitest';
import { isLedgerError } from './errors';
import { type FraudReviewResolved, type FraudScored, decideRecordScore, decideResolveReview } from './fraud';

const scored = (decision: 'allow' | 'review'): FraudScored => ({
  type: 'FraudScored',
  data: { transferId: 't1', score: 0.9, modelVersion: 'm@1', decision, features: [1], featuresSha256: 'ab' },
});
const resolve = (reviewId: string, outcome: 'fraud' | 'legitimate', note = 'n') => ({
  type: 'ResolveReview' as const,
  transferId: 't1',
  reviewId,
  outcome,
  note,
});
const AT = '2026-12-01T00:00:00.000Z';

describe('fraud deciders', () => {
  it('a transfer is scored once: a second score finds the first and records nothing', () => {
    const first = decideRecordScore({ type: 'RecordScore', score: scored('allow').data }, undefined);
    expect(first).toEqual(scored('allow'));
    expect(decideRecordScore({ type: 'RecordScore', score: scored('review').data }, first!)).toBeNull();
  });

  it('only a transfer scored review has a review to resolve', () => {
    const noScore = decideResolveReview(resolve('r1', 'fraud'), undefined, undefined, AT);
    const allowed = decideResolveReview(resolve('r1', 'fraud'), scored('allow'), undefined, AT);
    expect(isLedgerError(noScore) && noScore.slug).toBe('review-not-found');
    expect(isLedgerError(allowed) && allowed.slug).toBe('review-not-found');
  });

  it('resolves an open review once; the same resolution again is a duplicate, any other is refused', () => {
    const first = decideResolveReview(resolve('r1', 'fraud'), scored('review'), undefined, AT);
    expect(first).toEqual({
      event: {
        type: 'FraudReviewResolved',
        data: { transferId: 't1', reviewId: 'r1', outcome: 'fraud', note: 'n', resolvedAt: AT },
      },
      duplicate: false,
    });
    const resolved = (first as { event: FraudReviewResolved }).event;
    expect(decideResolveReview(resolve('r1', 'fraud'), scored('review'), resolved, AT)).toEqual({
      event: resolved,
      duplicate: true,
    });
    const other = decideResolveReview(resolve('r2', 'legitimate'), scored('review'), resolved, AT);
    expect(isLedgerError(other) && other.slug).toBe('review-resolved');
    const sameIdOtherBody = decideResolveReview(resolve('r1', 'legitimate'), scored('review'), resolved, AT);
    expect(isLedgerError(sameIdOtherBody) && sameIdOtherBody.slug).toBe('idempotency-conflict');
  });
});
