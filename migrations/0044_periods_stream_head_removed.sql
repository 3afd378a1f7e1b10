-- Undoes 0043. Since ledger_append (0012, ADR 0027) takes the log head's lock before it reads any
-- stream head, a stream that does not exist yet cannot change under an appender that expects it
-- not to: the first close and a posting decided before it are serialised by that lock, and the
-- posting's no-stream expectation of `periods` fails. The placeholder head row at revision -1 is
-- not needed, and ledger_append takes a head at -1 for a stream to create: remove it.
delete from stream_heads where stream_id = 'periods' and revision = -1;
