-- Read models, built by the projector from the global log. Derived data: a rebuild truncates and
-- replays them. Amounts are numeric (exact, unbounded): a single amount is at most 2^127-1 and
-- totals may exceed it.

create table rm_accounts (
  id              text primary key,
  currency        text not null,
  normal_side     text not null,
  flags           json not null,
  status          text not null,
  debits_posted   numeric not null,
  credits_posted  numeric not null,
  entry_count     bigint not null,
  version         bigint not null,
  opened_at       timestamptz not null,
  code            text,
  metadata        json not null,
  position        bigint not null
);

create table rm_transfers (
  id                 text primary key,
  debit_account_id   text not null,
  credit_account_id  text not null,
  amount             numeric not null,
  currency           text not null,
  status             text not null,
  code               text,
  reference          text,
  metadata           json not null,
  effective_at       timestamptz not null,
  recorded_at        timestamptz not null,
  position           bigint not null
);

-- One row per side of a posting; `seq` numbers an account's entries from 1 in log order.
create table rm_entries (
  account_id     text not null,
  seq            bigint not null,
  transfer_id    text not null,
  side           text not null,
  amount         numeric not null,
  balance_after  numeric not null,
  effective_at   timestamptz not null,
  recorded_at    timestamptz not null,
  position       bigint not null,
  primary key (account_id, seq)
);

-- Where each reader of the global log has got to; written in the same transaction as its effects.
create table checkpoints (
  name        text primary key,
  position    bigint not null,
  updated_at  timestamptz not null default now()
);
