-- Signed tree heads (ADR 0021): "the first tree_size events of the log have Merkle root
-- root_hash", signed with Ed25519 key key_id over `ledger-tree-head:v1:<tree_size>:<root hex>`.
-- Rows are only ever added.
create table audit_tree_heads (
  tree_size  bigint not null,
  key_id     text not null,
  root_hash  bytea not null,
  signed_at  timestamptz not null,
  signature  bytea not null,
  primary key (tree_size, key_id)
);

-- Every key that ever signed a digest or a tree head (ADR 0022): its public part and the period
-- it signed in, so whatever it signed verifies after it is rotated out or the process restarts.
-- A key is registered when a process starts with it; its period is null until it first signs.
-- Rows are never removed (a retired key's public part is what keeps its signatures checkable).
create table audit_signing_keys (
  key_id           text primary key,
  public_key       text not null,
  registered_at    timestamptz not null default now(),
  first_signed_at  timestamptz,
  last_signed_at   timestamptz
);

create trigger audit_signing_keys_no_delete before delete on audit_signing_keys
  for each row execute function ledger_refuse_change();

create trigger audit_tree_heads_immutable before update or delete on audit_tree_heads
  for each row execute function ledger_refuse_change();
