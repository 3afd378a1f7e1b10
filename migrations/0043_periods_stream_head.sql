-- Closed periods (ADR 0033): every posting expects the `periods` stream at the revision it was
-- decided on, without writing to it. An appender locks the heads of the streams it expects; a
-- stream with no head row locks nothing, so a first close and a posting decided before it could
-- both commit, the posting after the close. A head row at revision -1 (no event: the stream does
-- not exist, as the port says it) gives the first close a row to lock from the start.
insert into stream_heads (stream_id, revision) values ('periods', -1) on conflict (stream_id) do nothing;
