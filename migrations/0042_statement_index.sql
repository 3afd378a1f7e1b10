-- Statements (GET /v1/accounts/{id}/statement) read one account's entries effective in a period,
-- in effective order, page by page: without this index each page would scan the account's history.
create index rm_entries_by_effective on rm_entries (account_id, effective_at, position);
