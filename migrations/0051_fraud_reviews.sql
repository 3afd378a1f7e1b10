-- Risk and fraud reviews (ADR 0023): read models of FraudScored and FraudReviewResolved, kept by
-- the `fraud-reviews` follower of the global log in the transaction that moves its checkpoint.

-- One row per scored transfer: what GET /v1/transfers/{id} shows as `risk`.
create table rm_fraud_risk (
  transfer_id    text primary key,
  score          double precision not null,
  decision       text not null check (decision in ('allow', 'review')),
  model_version  text not null,
  scored_at      timestamptz not null,
  position       numeric(39, 0) not null
);

-- One row per transfer scored `review`: the queue, oldest first by the transfer's recordedAt.
create table rm_fraud_reviews (
  transfer_id           text primary key,
  status                text not null check (status in ('open', 'resolved')),
  transfer_recorded_at  timestamptz not null,
  debit_account_id      text not null,
  credit_account_id     text not null,
  amount                numeric not null,
  currency              text not null,
  review_id             text,
  outcome               text check (outcome in ('fraud', 'legitimate')),
  note                  text,
  resolved_at           timestamptz,
  actor                 text,
  position              numeric(39, 0) not null
);
create index rm_fraud_reviews_queue on rm_fraud_reviews (status, transfer_recorded_at, transfer_id);

-- The compensation saga's completions (ADR 0024): a row once every step of a `fraud` resolution
-- is applied, written with the saga's checkpoint. No row for a `fraud` resolution: still pending.
create table fraud_compensations (
  transfer_id  text primary key,
  steps        json not null,
  done_at      timestamptz not null default now(),
  position     numeric(39, 0) not null
);
