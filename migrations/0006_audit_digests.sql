-- Signed heads of the hash chain (ADR 0006): each row says "the event at `position` hashes to
-- `hash`", signed with the service's Ed25519 key `key_id`. `digest` is the whole signed document
-- as served by GET /v1/audit/digest. Rows are only ever added.
create table audit_digests (
  key_id     text not null,
  position   bigint not null,
  digest     json not null,
  created_at timestamptz not null default now(),
  primary key (key_id, position)
);
