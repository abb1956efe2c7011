-- Offline field work: every write an inspector can make without a network carries an id made by
-- the phone (a UUID), so that the queue replayed after the network came back — or a save sent
-- again after its answer was lost — finds the first write instead of making a second. The row is
-- claimed at the start of the write's transaction (a second copy arriving at the same time waits
-- on the unique key, then finds the first one committed) and completed with the record it made or
-- changed before it commits; a replay is answered with that record. request_hash says which write
-- it was, so an id reused for another body, record or user is refused rather than answered with
-- somebody else's record. The record's personal fields are not copied here: it is named, not kept.
create table client_write (
  client_id     uuid primary key,
  user_id       int not null references app_user(id),
  action        text not null check (action ~ '^[a-z]+\.[a-z]+$'),
  request_hash  bytea not null check (octet_length(request_hash) = 32),
  entity        text check (entity in ('premises', 'hazard')),
  entity_id     bigint,
  status        int check (status between 200 and 299),
  created_at    timestamptz not null default now(),
  check ((entity is null) = (entity_id is null))
);
create index client_write_user_idx on client_write (user_id, created_at);
