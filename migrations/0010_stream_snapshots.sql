-- A snapshot beside a stream's head (ADR 0013): the state of the stream's aggregate after
-- `snapshot_revision`, written by the append that produced it, in the same statement, so a cold
-- account loads in O(1) whatever its history. Derived data: the events stay the truth, a loader
-- folds whatever follows `snapshot_revision`, and a check compares snapshots with the fold.
alter table stream_heads add column snapshot json;
alter table stream_heads add column snapshot_revision bigint;
-- Position of the stream's event at `snapshot_revision`.
alter table stream_heads add column snapshot_position bigint;
