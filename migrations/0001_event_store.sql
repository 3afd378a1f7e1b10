-- The event store: an append-only log of immutable events.
--
-- Every event is written once, in its own stream (`stream_id`, `revision`), and may also be linked
-- into other streams (a transfer is in its own stream and linked into both accounts' streams).
-- `position` is the event's place in the global log. Positions are handed out under the row lock
-- of `log_head`, which an appender holds until it commits, so position order is commit order and
-- positions are dense: a reader that asks for `position > checkpoint` never skips an event that
-- commits later with a smaller position (the classic trap of sequence-numbered logs).

create table events (
  position     bigint primary key,
  event_id     uuid not null unique,
  stream_id    text not null,
  revision     bigint not null,
  type         text not null,
  data         json not null,
  metadata     json not null,
  recorded_at  timestamptz not null,
  prev_hash    bytea not null,
  hash         bytea not null,
  unique (stream_id, revision)
);

-- Events linked into a stream other than their own.
create table stream_links (
  stream_id  text not null,
  revision   bigint not null,
  position   bigint not null references events (position),
  primary key (stream_id, revision)
);

-- The last revision of every stream: the row an appender locks to check its expected revision.
create table stream_heads (
  stream_id  text primary key,
  revision   bigint not null
);

-- The head of the global log: last position and the hash that chains the next event to it.
create table log_head (
  id           smallint primary key check (id = 1),
  position     bigint not null,
  hash         bytea not null,
  recorded_at  timestamptz
);
insert into log_head (id, position, hash) values (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- History is immutable: the database itself refuses to change or remove an event or a link.
create function ledger_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'ledger history is immutable: % on % refused', tg_op, tg_table_name
    using errcode = 'insufficient_privilege';
end;
$$;

create trigger events_immutable before update or delete on events
  for each row execute function ledger_refuse_change();
create trigger events_no_truncate before truncate on events
  for each statement execute function ledger_refuse_change();
create trigger stream_links_immutable before update or delete on stream_links
  for each row execute function ledger_refuse_change();
create trigger stream_links_no_truncate before truncate on stream_links
  for each statement execute function ledger_refuse_change();
