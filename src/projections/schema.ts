/** Read-model tables (migrations/0002_read_models.sql). numeric and int8 travel as strings. */
export interface ReadModelTables {
  rm_accounts: {
    id: string;
    currency: string;
    normal_side: string;
    flags: unknown;
    status: string;
    debits_posted: string;
    credits_posted: string;
    /** migrations/0030 */
    debits_pending: string;
    credits_pending: string;
    entry_count: string;
    version: string;
    opened_at: Date;
    code: string | null;
    metadata: unknown;
    position: string;
  };
  rm_transfers: {
    id: string;
    debit_account_id: string;
    credit_account_id: string;
    amount: string;
    currency: string;
    status: string;
    /** migrations/0030 */
    pending_amount: string;
    posted_amount: string;
    reversed_amount: string;
    expires_at: Date | null;
    reverses: string | null;
    code: string | null;
    reference: string | null;
    metadata: unknown;
    effective_at: Date;
    recorded_at: Date;
    position: string;
  };
  rm_entries: {
    account_id: string;
    seq: string;
    transfer_id: string;
    side: string;
    amount: string;
    balance_after: string;
    effective_at: Date;
    recorded_at: Date;
    position: string;
  };
  rm_balance_known: {
    account_id: string;
    recorded_at: Date;
    debits_through: string;
    credits_through: string;
    /** migrations/0030 */
    debits_pending_through: string;
    credits_pending_through: string;
  };
  rm_backdated_entries: {
    account_id: string;
    position: string;
    recorded_at: Date;
    effective_at: Date;
    side: string;
    amount: string;
  };
}

declare module '../platform/tables' {
  interface Tables extends ReadModelTables {}
}
