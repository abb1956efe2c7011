-- Field work: photos as evidence (premises; a hazard as found and as rectified) and visits that
-- commanders assign to inspectors (tasks).

-- A rectification is verified only with an "after" photo, unless the campaign says otherwise.
alter table campaign add column verify_needs_photo boolean not null default true;

-- ---------------------------------------------------------------------------------------------
-- Photos. The server stores only what it re-encoded itself (a JPEG without metadata) and its
-- thumbnail, never the uploaded file. client_id is made by the phone for each upload, so that an
-- upload sent again (a retry, an offline queue replayed) finds the first one instead of adding a
-- second. A deleted photo keeps its row for the audit trail and loses its pixels.
-- ---------------------------------------------------------------------------------------------
create table photo (
  id            bigserial primary key,
  client_id     uuid not null unique,
  premises_id   bigint not null references premises(id) on delete cascade,
  hazard_id     bigint references hazard(id) on delete cascade,
  stage         text not null check (stage in ('premises', 'found', 'rectified')),
  width         int not null check (width between 1 and 10000),
  height        int not null check (height between 1 and 10000),
  source_type   text not null check (source_type in ('jpeg', 'png', 'webp')),
  source_bytes  int not null check (source_bytes > 0),
  sha256        bytea not null check (octet_length(sha256) = 32),
  image         bytea check (octet_length(image) <= 4194304),
  thumb         bytea check (octet_length(thumb) <= 262144),
  created_at    timestamptz not null default now(),
  created_by    int not null references app_user(id),
  deleted_at    timestamptz,
  deleted_by    int references app_user(id),
  check ((stage = 'premises') = (hazard_id is null)),
  check ((deleted_at is null) = (image is not null and thumb is not null)),
  check ((deleted_at is null) = (deleted_by is null))
);
-- JPEG does not compress further: keep the bytes out of line without trying.
alter table photo alter column image set storage external;
alter table photo alter column thumb set storage external;
create index photo_premises_idx on photo (premises_id) where deleted_at is null;
create index photo_hazard_idx on photo (hazard_id) where deleted_at is null;

-- ---------------------------------------------------------------------------------------------
-- Tasks: one visit to one premises (inspect, revisit) or to one hazard (verify its
-- rectification), assigned to an inspector with a due date. One assignment (batch) makes many.
-- A task is open until the visit closes it (done) or a commander withdraws it (cancelled).
-- ---------------------------------------------------------------------------------------------
create table task (
  id             bigserial primary key,
  kind           text not null check (kind in ('inspect', 'revisit', 'verify')),
  premises_id    bigint not null references premises(id) on delete cascade,
  hazard_id      bigint references hazard(id) on delete cascade,
  assignee_id    int not null references app_user(id),
  assigned_by    int not null references app_user(id),
  batch_id       uuid not null,
  due_on         date not null,
  note           text check (note is null or length(note) between 1 and 500),
  status         text not null default 'open' check (status in ('open', 'done', 'cancelled')),
  created_at     timestamptz not null default now(),
  closed_at      timestamptz,
  closed_by      int references app_user(id),
  -- What closed it: the write of the visit (premises.update, hazard.create, photo.upload,
  -- hazard.rectify, hazard.verify, ...), task.complete or task.cancel.
  closed_by_action text,
  closing_note   text check (closing_note is null or length(closing_note) between 1 and 500),
  -- The client's id of the task.complete that closed it: the same completion sent again is a replay.
  client_id      uuid unique,
  check ((kind = 'verify') = (hazard_id is not null)),
  check ((status = 'open') = (closed_at is null)),
  check ((status = 'open') = (closed_by_action is null)),
  check (closed_at is null or closed_at >= created_at)
);
-- One open visit of a kind per premises (and hazard): a second assignment would send two people.
create unique index task_open_once on task (kind, premises_id, coalesce(hazard_id, 0)) where status = 'open';
create index task_assignee_idx on task (assignee_id, status, due_on);
create index task_premises_idx on task (premises_id, status);
create index task_batch_idx on task (batch_id);

-- A photo or a task of a hazard belongs to the hazard's premises, whatever the writer said: the
-- premises carries the jurisdiction that every read of them filters on.
create function premises_of_hazard() returns trigger language plpgsql as $$
begin
  if new.hazard_id is not null then
    select h.premises_id into strict new.premises_id from hazard h where h.id = new.hazard_id;
  end if;
  return new;
exception when no_data_found then
  raise exception 'there is no hazard with id %', new.hazard_id using errcode = '23503';
end $$;
create trigger photo_premises_of_hazard before insert or update of hazard_id, premises_id on photo
  for each row execute function premises_of_hazard();
create trigger task_premises_of_hazard before insert or update of hazard_id, premises_id on task
  for each row execute function premises_of_hazard();
