import type { Generated } from 'kysely';

/**
 * The fraud read models' tables (migrations/0051_fraud_reviews.sql), for kysely. numeric travels
 * as a string.
 */
export interface FraudTables {
  rm_fraud_risk: {
    transfer_id: string;
    score: number;
    decision: 'allow' | 'review';
    model_version: string;
    scored_at: Date | string;
    position: string;
  };
  rm_fraud_reviews: {
    transfer_id: string;
    status: 'open' | 'resolved';
    transfer_recorded_at: Date | string;
    debit_account_id: string;
    credit_account_id: string;
    amount: string;
    currency: string;
    review_id: string | null;
    outcome: 'fraud' | 'legitimate' | null;
    note: string | null;
    resolved_at: Date | string | null;
    actor: string | null;
    position: string;
  };
  fraud_compensations: {
    transfer_id: string;
    steps: unknown;
    done_at: Generated<Date>;
    position: string;
  };
}

declare module '../platform/tables' {
  interface Tables extends FraudTables {}
}
