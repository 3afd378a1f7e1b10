-- ledger_append (migrations/0012, ADR 0027) with the same arguments, results and writes, for less
-- PostgreSQL time a call (ADR 0027, "Plans made once"): its statements are planned once per
-- connection instead of on every call, the heads are read once (locked, with their revisions and
-- the checks of the expected revisions) instead of twice, and the writes are one statement.
create or replace function ledger_append(
  p_streams text[],
  p_expect_kinds text[],
  p_expect_revisions bigint[],
  p_event_ids text[],
  p_event_streams text[],
  p_event_types text[],
  p_event_data text[],
  p_event_metadata text[],
  p_event_ids_json text[],
  p_event_streams_json text[],
  p_event_types_json text[],
  p_link_events int[],
  p_link_streams text[],
  p_snapshot_streams text[],
  p_snapshot_data text[],
  p_recorded_at text,
  p_recorded_at_json text
) returns table (base_position bigint, base_hash text, before_revisions bigint[], hashes text)
language plpgsql
-- One plan per statement and connection, made once (force_generic_plan): planning each statement for
-- its arrays was about a fifth of the backend's CPU a call (ADR 0027). A generic plan does not know the arrays, so every read of
-- stream_heads is shaped to stay a point read whatever the planner thinks of the table's size (an
-- index scan on `= any(array)` or a fetch by ctid, never a join that could scan it), and
-- enable_seqscan = off keeps a plan made while the table was small from scanning it once it is big.
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
  v_before bigint[];
  v_present boolean[];
  v_tids tid[];
  v_conflicts text;
  v_count int := coalesce(array_length(p_event_ids, 1), 0);
  v_position bigint;
  v_hash bytea;
  v_base_hash bytea;
  v_event_revisions bigint[];
  v_link_revisions bigint[];
  v_heads_moved int;
  v_heads_updated int;
  v_hashes bytea[] := '{}';
  v_recorded_at timestamptz := p_recorded_at::timestamptz;
begin
  -- The global critical section starts here and ends at commit: position order = commit order.
  -- Taken first, so that every head read below is as the last appender committed it (a stream
  -- another appender was creating has its head by now) and appenders queue here, not on heads.
  select l.position, l.hash into v_position, v_hash from log_head l where l.id = 1 for update;
  if not found then
    raise exception 'log_head row is missing: the event store schema is damaged';
  end if;
  -- The heads that exist, locked in stream order (snapshot writes take them too), read once: their
  -- revisions, and where they are (ctid, stable while locked: the update below fetches them there
  -- instead of looking each up in the index again), with the expected revisions checked. A head
  -- row may exist at revision -1 (a stream with no event yet, e.g. migrations/0043): it is moved,
  -- not created.
  with h as materialized (
    select stream_id, revision, ctid as tid from stream_heads
     where stream_id = any(p_streams) order by stream_id for update
  )
  select array_agg(coalesce(h.revision, -1) order by s.k), array_agg(h.stream_id is not null order by s.k),
         array_agg(h.tid order by s.k),
         (json_agg(json_build_object('streamId', s.stream_id, 'actual', coalesce(h.revision, -1)::text) order by s.k)
           filter (where case p_expect_kinds[s.k]
             when 'no-stream' then coalesce(h.revision, -1) <> -1
             when 'exists' then coalesce(h.revision, -1) = -1
             when 'at' then coalesce(h.revision, -1) <> p_expect_revisions[s.k]
             else false
           end))::text
    into v_before, v_present, v_tids, v_conflicts
    from unnest(p_streams) with ordinality as s(stream_id, k)
    left join h on h.stream_id = s.stream_id;
  if v_conflicts is not null then
    raise exception 'wrong expected revision' using errcode = 'LE001', detail = v_conflicts;
  end if;

  base_position := v_position;
  base_hash := encode(v_hash, 'hex');
  v_base_hash := v_hash;
  before_revisions := v_before;
  if v_count = 0 then
    hashes := '';
    return next;
    return;
  end if;

  -- Revisions: each stream counts on from its head, in event order (an event's own stream, then
  -- its links, as the caller lists them). Also: how many existing heads the append moves.
  with items as (
    select e.ord::int as idx, 0 as kind, e.ord::int as item, e.stream_id
      from unnest(p_event_streams) with ordinality as e(stream_id, ord)
    union all
    select l.event_index, 1, l.ord::int, l.stream_id
      from unnest(p_link_events, p_link_streams) with ordinality as l(event_index, stream_id, ord)
  ), numbered as (
    select it.kind, it.item, b.present,
           row_number() over (partition by it.stream_id order by it.idx, it.kind) as nth,
           coalesce(b.before, -1) + row_number() over (partition by it.stream_id order by it.idx, it.kind) as revision
      from items it
      left join unnest(p_streams, v_before, v_present) as b(stream_id, before, present) on b.stream_id = it.stream_id
  )
  select array_agg(n.revision order by n.item) filter (where n.kind = 0),
         array_agg(n.revision order by n.item) filter (where n.kind = 1),
         count(*) filter (where n.nth = 1 and n.present)
    into v_event_revisions, v_link_revisions, v_heads_moved
    from numbered n;

  for i in 1 .. v_count loop
    v_position := v_position + 1;
    v_hash := sha256(v_hash || convert_to(
      '{"data":' || p_event_data[i] || ',"eventId":' || p_event_ids_json[i] || ',"metadata":' || p_event_metadata[i] ||
      ',"position":"' || v_position || '","recordedAt":' || p_recorded_at_json || ',"revision":"' ||
      v_event_revisions[i] || '","streamId":' || p_event_streams_json[i] || ',"type":' || p_event_types_json[i] || '}',
      'UTF8'));
    v_hashes[i] := v_hash;
  end loop;

  -- Everything written in one statement: events, links, heads (a stream's new revision, and its
  -- snapshot or the stored one kept, with the revision and position of its last event in this
  -- append) and the log head.
  with items as (
    select e.ord::int as idx, e.stream_id from unnest(p_event_streams) with ordinality as e(stream_id, ord)
    union all
    select l.event_index, l.stream_id from unnest(p_link_events, p_link_streams) as l(event_index, stream_id)
  ), moved as (
    select it.stream_id, b.present, b.tid, b.before + count(*) as after, base_position + max(it.idx) as last_position,
           sn.data
      from items it
      join unnest(p_streams, v_before, v_present, v_tids) as b(stream_id, before, present, tid)
        on b.stream_id = it.stream_id
      left join unnest(p_snapshot_streams, p_snapshot_data) as sn(stream_id, data) on sn.stream_id = it.stream_id
     group by it.stream_id, b.present, b.before, b.tid, sn.data
  ), new_events as (
    insert into events (position, event_id, stream_id, revision, type, data, metadata, recorded_at, prev_hash, hash)
    select base_position + x.ord, x.id::uuid, x.s, v_event_revisions[x.ord], x.t, x.d::json, x.m::json, v_recorded_at,
           case when x.ord = 1 then v_base_hash else v_hashes[x.ord - 1] end, v_hashes[x.ord]
      from unnest(p_event_ids, p_event_streams, p_event_types, p_event_data, p_event_metadata)
           with ordinality as x(id, s, t, d, m, ord)
  ), new_links as (
    insert into stream_links (stream_id, revision, position)
    select l.s, v_link_revisions[l.ord], base_position + l.e
      from unnest(p_link_events, p_link_streams) with ordinality as l(e, s, ord)
  ), created as (
    insert into stream_heads (stream_id, revision, snapshot, snapshot_revision, snapshot_position)
    select m.stream_id, m.after, m.data::json,
           case when m.data is null then null else m.after end,
           case when m.data is null then null else m.last_position end
      from moved m where not m.present
  ), log as (
    update log_head set position = base_position + v_count, hash = v_hashes[v_count], recorded_at = v_recorded_at
     where id = 1
  )
  update stream_heads h set revision = m.after,
         snapshot = coalesce(m.data::json, h.snapshot),
         snapshot_revision = case when m.data is null then h.snapshot_revision else m.after end,
         snapshot_position = case when m.data is null then h.snapshot_position else m.last_position end
    from moved m
   where m.present and h.ctid = any(v_tids) and h.ctid = m.tid and h.stream_id = m.stream_id;
  get diagnostics v_heads_updated = row_count;
  if v_heads_updated <> v_heads_moved then
    raise exception 'ledger_append moved % of % stream heads: a locked head was not where it was read',
      v_heads_updated, v_heads_moved;
  end if;

  hashes := array_to_string(array(select encode(h, 'hex') from unnest(v_hashes) as h), '');
  return next;
end;
$$;
