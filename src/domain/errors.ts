/**
 * Business outcomes a command can end in, as values. `src/api` maps each slug, once, to an
 * RFC 9457 problem; nothing here knows about HTTP.
 */
export type LedgerErrorSlug =
  | 'account-not-found'
  | 'transfer-not-found'
  | 'idempotency-conflict'
  | 'insufficient-funds'
  | 'currency-mismatch'
  | 'account-not-open'
  | 'same-account'
  | 'batch-aborted'
  | 'effective-time-out-of-range'
  | 'exceeds-pending'
  | 'transfer-not-pending'
  | 'exceeds-reversible'
  | 'review-not-found'
  | 'review-resolved'
  | 'under-review'
  | 'period-closed'
  | 'period-not-over'
  | 'period-close-not-later'
  | 'not-in-closed-period'
  | 'adjustment-not-found'
  | 'self-approval'
  | 'actor-required';

export interface LedgerError {
  readonly kind: 'ledger-error';
  readonly slug: LedgerErrorSlug;
  readonly detail: string;
}

export const ledgerError = (slug: LedgerErrorSlug, detail: string): LedgerError => ({
  kind: 'ledger-error',
  slug,
  detail,
});

export const isLedgerError = (value: unknown): value is LedgerError =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'ledger-error';
