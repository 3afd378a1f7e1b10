-- The fraud scorer's own state (src/fraud). Derived data, like the read models: it follows the
-- global log from the `fraud-scorer` row of `checkpoints` and moves in the same transaction as it.

-- Per-account rolling statistics the features need (src/fraud/features.ts, AccountProfile as JSON).
create table fraud_profiles (
  account_id  text primary key,
  profile     json not null,
  position    bigint not null
);

-- Debit→credit pairs seen before (counterparty novelty).
create table fraud_counterparties (
  account_id       text not null,
  counterparty_id  text not null,
  position         bigint not null,
  primary key (account_id, counterparty_id)
);

-- Events the scorer could not score after FRAUD_POISON_ATTEMPTS tries with the breaker closed.
-- An admin asks for a retry (status retry-requested); the scorer takes it up and resolves it.
create table fraud_dead_letters (
  id                  bigserial primary key,
  position            bigint not null unique,
  event_id            uuid not null,
  transfer_id         text,
  error               text not null,
  attempts            integer not null,
  status              text not null default 'dead' check (status in ('dead', 'retry-requested', 'resolved')),
  dead_at             timestamptz not null default now(),
  retry_requested_at  timestamptz,
  resolved_at         timestamptz,
  score               double precision
);
create index fraud_dead_letters_status on fraud_dead_letters (status, id);
