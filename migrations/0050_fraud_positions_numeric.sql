-- The fraud scorer's positions are global-log positions like every other reader's (0003): on
-- EventStoreDB a position packs $all's (commit, prepare) into 128 bits (ADR 0007), beyond bigint.
alter table fraud_profiles alter column position type numeric(39, 0);
alter table fraud_counterparties alter column position type numeric(39, 0);
alter table fraud_dead_letters alter column position type numeric(39, 0);
