-- Keyset indexes behind the list routes (GET /v1/accounts, GET /v1/transfers; ADR 0025). Each list
-- is read in one order, (opened_at, id) for accounts and (recorded_at, id) for transfers, from a
-- cursor: with an index in that order, led by the filter's equality column when there is one, a page
-- reads `limit` index entries however many rows the table holds.
--
-- None of these columns changes when a posting updates an account's totals, so those updates stay
-- HOT (no index is touched).
create index rm_accounts_by_opened on rm_accounts (opened_at, id);
create index rm_accounts_by_currency on rm_accounts (currency, opened_at, id);
create index rm_accounts_by_code on rm_accounts (code, opened_at, id) where code is not null;
create index rm_accounts_by_status on rm_accounts (status, opened_at, id);

create index rm_transfers_by_recorded on rm_transfers (recorded_at, id);
-- An account's transfers are those it debits and those it credits: two ordered scans, merged.
create index rm_transfers_by_debit on rm_transfers (debit_account_id, recorded_at, id);
create index rm_transfers_by_credit on rm_transfers (credit_account_id, recorded_at, id);

-- metadata.<key>=<value> filters: containment on jsonb (metadata is stored as json).
create index rm_accounts_by_metadata on rm_accounts using gin ((metadata::jsonb) jsonb_path_ops);
create index rm_transfers_by_metadata on rm_transfers using gin ((metadata::jsonb) jsonb_path_ops);

-- status=posted is nearly every transfer (the ordered scan finds a page at once); the other
-- statuses are rare, so they get a small partial index of their own.
create index rm_transfers_unposted on rm_transfers (status, recorded_at, id) where status <> 'posted';
