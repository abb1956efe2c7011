-- The biweekly tables, frozen when submitted; ledger imports.

-- The day a key area was cleared to zero (attachment 5 counts key areas cleared in a period).
-- Kept by trigger: set when the status becomes 'cleared' (today in the district unless the writer
-- gave a date), removed when it leaves 'cleared'.
alter table key_area add column cleared_on date;
alter table key_area add constraint key_area_cleared_on_check
  check ((status = 'cleared') = (cleared_on is not null) and (cleared_on is null or listed_on is null or cleared_on >= listed_on));

create function key_area_cleared_on() returns trigger language plpgsql as $$
begin
  if new.status = 'cleared' then
    if tg_op = 'INSERT' or old.status <> 'cleared' then
      new.cleared_on := coalesce(new.cleared_on, (now() at time zone 'Asia/Shanghai')::date);
    end if;
  else
    new.cleared_on := null;
  end if;
  return new;
end $$;
create trigger key_area_cleared_on_trg before insert or update of status, cleared_on on key_area
  for each row execute function key_area_cleared_on();

-- A submitted table: the figures as they stood when a person submitted them. Rows are never
-- updated; a period's table is submitted once (a correction is a new campaign decision, not a
-- silent rewrite).
create table report_submission (
  id            serial primary key,
  report        text not null check (report in ('attachment-3', 'attachment-4', 'attachment-5')),
  -- What the table is about: 'district', a key area id or a town id.
  subject       text not null,
  period_to     date not null,
  data          jsonb not null,
  filled_by     text not null check (length(filled_by) between 1 and 50),
  reviewed_by   text check (reviewed_by is null or length(reviewed_by) between 1 and 50),
  submitted_by  int not null references app_user(id),
  submitted_at  timestamptz not null default now(),
  unique (report, subject, period_to)
);

create function report_submission_frozen() returns trigger language plpgsql as $$
begin
  raise exception 'a submitted table cannot be changed' using errcode = '42501';
end $$;
create trigger report_submission_frozen_trg before update or delete on report_submission
  for each row execute function report_submission_frozen();

-- Ledger imports. The reference a row carries in the ledger makes a second import of the same
-- file change nothing: rows are matched on it.
alter table premises add column external_ref text;
create unique index premises_external_ref_idx on premises (external_ref) where external_ref is not null;
alter table resident add column external_ref text;
create unique index resident_external_ref_idx on resident (external_ref) where external_ref is not null;
alter table hazard add column external_ref text;
create unique index hazard_external_ref_idx on hazard (external_ref) where external_ref is not null;

create table import_job (
  id           uuid primary key,
  kind         text not null check (kind in ('premises', 'residents', 'hazards')),
  file_name    text not null,
  file_sha256  text not null,
  crs          text not null check (crs in ('wgs84', 'gcj02', 'bd09')),
  mapping      jsonb not null,
  status       text not null check (status in ('uploaded', 'validated', 'committed', 'failed')),
  rows_total   int not null default 0,
  rows_invalid int not null default 0,
  summary      jsonb,
  created_by   int not null references app_user(id),
  created_at   timestamptz not null default now(),
  committed_at timestamptz
);
