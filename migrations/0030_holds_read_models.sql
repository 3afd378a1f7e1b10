-- Holds and reversals in the read models (ADR 0020). Derived data like the rest: a rebuild
-- truncates and replays them. Pending totals are what holds still reserve; a transfer's posted
-- amount is the whole amount for a plain transfer or a reversal, and what its posts moved for a hold.

alter table rm_accounts add column debits_pending numeric not null default 0;
alter table rm_accounts add column credits_pending numeric not null default 0;

alter table rm_transfers add column pending_amount numeric not null default 0;
-- Rows from before this migration are plain posted transfers: all their amount is posted.
alter table rm_transfers add column posted_amount numeric not null default 0;
update rm_transfers set posted_amount = amount;
alter table rm_transfers add column reversed_amount numeric not null default 0;
alter table rm_transfers add column expires_at timestamptz;
alter table rm_transfers add column reverses text;
-- The expirer's question, "which holds are due?", reads only pending holds with an expiry.
create index rm_transfers_expiring on rm_transfers (expires_at) where status = 'pending' and expires_at is not null;

-- The time index (migration 0005) also sums pending totals: a hold adds at its (effectiveAt,
-- recordedAt), and each release (post, void, expiry) takes back at its own. Those deltas can be
-- negative, and one event (a post) now gives an account several rows: posted and pending.
alter table rm_balance_known add column debits_pending_through numeric not null default 0;
alter table rm_balance_known add column credits_pending_through numeric not null default 0;
alter table rm_backdated_entries drop constraint rm_backdated_entries_pkey;
alter table rm_backdated_entries add primary key (account_id, position, side);
