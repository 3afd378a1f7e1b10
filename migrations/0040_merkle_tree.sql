-- The Merkle tree over the log (ADR 0021, RFC 9162): every complete subtree's hash, written once
-- when its last leaf arrives. Subtree (level, index) covers leaves [index * 2^level,
-- (index + 1) * 2^level); level 0 is the leaf hash of one event (leaf i: the event at position
-- i + 1). Any root or proof is folded from O(log n) of these rows, read by primary key.
create table audit_merkle_subtrees (
  level   smallint not null,
  index   bigint not null,
  hash    bytea not null,
  primary key (level, index)
);

-- How many leaves the tree holds: moved in the same transaction as the rows it counts.
create table audit_merkle_head (
  id         smallint primary key check (id = 1),
  tree_size  bigint not null
);
insert into audit_merkle_head (id, tree_size) values (1, 0);

-- Like the events they prove, subtree hashes are never changed or removed.
create trigger audit_merkle_subtrees_immutable before update or delete on audit_merkle_subtrees
  for each row execute function ledger_refuse_change();
create trigger audit_merkle_subtrees_no_truncate before truncate on audit_merkle_subtrees
  for each statement execute function ledger_refuse_change();
