-- ledger_append_after (ADR 0041): ledger_append for an append a writer sends while the one before
-- it, from the same writer, may not have committed yet. `p_after` is the id of that append's first
-- event. The call takes the log head's lock first, as ledger_append does, so it runs only once
-- every append ahead of it in the lock's queue has committed or rolled back; then it requires that
-- event to be in the log. If it is not (the append before failed, or has not reached the lock yet),
-- nothing is written and it raises LE002: the writer sends the batch again in its turn, or decides
-- it again if the batch it rested on failed.
create function ledger_append_after(
  p_after text,
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
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
begin
  perform 1 from log_head l where l.id = 1 for update;
  if not exists (select 1 from events e where e.event_id = p_after::uuid) then
    raise exception 'the append this one was sent after has not committed' using errcode = 'LE002', detail = p_after;
  end if;
  return query select * from ledger_append(
    p_streams, p_expect_kinds, p_expect_revisions, p_event_ids, p_event_streams, p_event_types, p_event_data,
    p_event_metadata, p_event_ids_json, p_event_streams_json, p_event_types_json, p_link_events, p_link_streams,
    p_snapshot_streams, p_snapshot_data, p_recorded_at, p_recorded_at_json);
end;
$$;
