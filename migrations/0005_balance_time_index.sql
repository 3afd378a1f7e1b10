-- The time-travel index behind balance(account, asOf = T, knownAt = K) (ADR 0005). Read models,
-- derived from the log like the others: the projector maintains them in the transaction of each
-- batch, and a rebuild truncates and replays them.
--
-- balance(T, K) = postings with effective_at <= T and recorded_at <= K. A posting is never
-- effective after it is recorded, so every posting recorded by min(T, K) counts: that part is one
-- row of `rm_balance_known`. What remains (only when T < K) are postings recorded in (T, K] but
-- effective by T: backdated ones, kept apart in `rm_backdated_entries`.

-- Per account and distinct recordedAt: totals of every posting recorded at or before it.
create table rm_balance_known (
  account_id       text not null,
  recorded_at      timestamptz not null,
  debits_through   numeric not null,
  credits_through  numeric not null,
  primary key (account_id, recorded_at)
);

-- The postings effective before they were recorded (effective_at < recorded_at).
create table rm_backdated_entries (
  account_id   text not null,
  position     numeric(39, 0) not null,
  recorded_at  timestamptz not null,
  effective_at timestamptz not null,
  side         text not null,
  amount       numeric not null,
  primary key (account_id, position)
);
create index rm_backdated_entries_by_recorded on rm_backdated_entries (account_id, recorded_at)
  include (effective_at, side, amount);
-- How far back an account's postings were ever dated: bounds the range of recorded_at to scan.
create index rm_backdated_entries_by_lag on rm_backdated_entries (account_id, (recorded_at - effective_at));

-- Read models built before this migration: fill the index from their entries.
insert into rm_balance_known (account_id, recorded_at, debits_through, credits_through)
select account_id, recorded_at,
       sum(sum(case when side = 'debit' then amount else 0 end)) over w,
       sum(sum(case when side = 'credit' then amount else 0 end)) over w
from rm_entries
group by account_id, recorded_at
window w as (partition by account_id order by recorded_at);

insert into rm_backdated_entries (account_id, position, recorded_at, effective_at, side, amount)
select account_id, position, recorded_at, effective_at, side, amount
from rm_entries where effective_at < recorded_at;
