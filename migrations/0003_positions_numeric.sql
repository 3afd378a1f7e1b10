-- Positions of the global log as the read models and checkpoints keep them. On EventStoreDB a
-- position packs $all's (commit, prepare) into 128 bits (ADR 0007), beyond bigint: numeric holds
-- both stores' positions exactly, and compares them as integers.
alter table checkpoints alter column position type numeric(39, 0);
alter table rm_accounts alter column position type numeric(39, 0);
alter table rm_transfers alter column position type numeric(39, 0);
alter table rm_entries alter column position type numeric(39, 0);
