-- Ledger imports stage their checked rows outside the shared tables, then merge them in one short
-- transaction (server/plugins/app/imports-merge.ts). A commit of 200,000 rows used to hold one
-- transaction for a minute: on the embedded database (one connection for the whole app) nobody
-- else was served meanwhile, and on PostgreSQL the district's writers waited for it. Now the slow
-- part (reading, checking, finding each point's areas, encrypting ID numbers) fills these tables
-- batch by batch in statements of their own, and only the set-wise merge holds a transaction.
--
-- Unlogged: a staged row is worth nothing once its server process is gone (the job lived in that
-- process's memory), so it needs no WAL; a crashed database server empties these tables itself.
-- Rows are found by their job; the merge deletes them in its own transaction, and rows of a commit
-- that died with its process are swept once its heartbeat is old.

create unlogged table import_stage_premises (
  job_id                       uuid not null,
  line                         int not null,
  external_ref                 text not null,
  kind                         text not null,
  address                      text not null,
  geom                         geometry(Point, 4326) not null,
  -- Computed when staged, as premises_assign_areas would: the merge does no spatial lookups.
  town_id                      int,
  community_id                 int,
  grid_id                      int,
  police_station_id            int,
  rooms_let                    int not null,
  beds_let                     int not null,
  occupants                    int not null,
  owner_name                   text,
  owner_phone                  text,
  second_landlord_name         text,
  second_landlord_phone        text,
  second_landlord_collected_on date,
  statement_signed_on          date,
  lease_filed_on               date,
  found_on                     date not null,
  registered_on                date,
  deregistered_on              date
);
create index import_stage_premises_job_idx on import_stage_premises (job_id, external_ref);

-- ID numbers are staged as the resident table keeps them: encrypted, with their HMAC and masked form.
create unlogged table import_stage_resident (
  job_id            uuid not null,
  line              int not null,
  external_ref      text not null,
  premises_id       bigint not null,
  name              text not null,
  id_type           text not null,
  id_number_cipher  bytea not null,
  id_number_hmac    bytea not null,
  id_number_masked  text not null,
  phone             text,
  floating          boolean not null,
  moved_in_on       date not null,
  moved_out_on      date,
  registered_on     date,
  deregistered_on   date
);
create index import_stage_resident_job_idx on import_stage_resident (job_id, external_ref);

create unlogged table import_stage_hazard (
  job_id          uuid not null,
  line            int not null,
  external_ref    text not null,
  premises_id     bigint not null,
  item_code       text not null,
  other_text      text,
  severity        text not null,
  status          text not null,
  department_code text not null,
  found_at        timestamptz not null,
  referred_at     timestamptz,
  rectified_at    timestamptz,
  verified_at     timestamptz,
  deadline        date
);
create index import_stage_hazard_job_idx on import_stage_hazard (job_id, external_ref);

-- A commit in progress says so, and keeps saying so while it stages: a job whose heartbeat stopped
-- died with its process. 'discarded': the user dropped the upload, or it was kept for a day.
alter table import_job drop constraint import_job_status_check;
alter table import_job add constraint import_job_status_check
  check (status in ('uploaded', 'validated', 'committing', 'committed', 'failed', 'discarded'));
alter table import_job add column heartbeat_at timestamptz;

-- The areas a point lies in, in one place: the premises trigger uses it for each row it writes,
-- an import for a whole staged batch at once (the first by id where areas overlap, as before).
-- A set-returning SQL function, so that the planner inlines it into the caller's query.
create function premises_areas(g geometry)
returns table (town_id int, community_id int, grid_id int, police_station_id int)
language sql stable parallel safe as $$
  select (select id from admin_area a where a.level = 'town' and a.valid_to is null and st_intersects(a.geom, g) order by id limit 1),
         (select id from admin_area a where a.level = 'community' and a.valid_to is null and st_intersects(a.geom, g) order by id limit 1),
         (select id from admin_area a where a.level = 'grid' and a.valid_to is null and st_intersects(a.geom, g) order by id limit 1),
         (select id from police_station s where s.valid_to is null and st_intersects(s.geom, g) order by id limit 1)
$$;

create or replace function premises_assign_areas() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.geom is not distinct from old.geom then
    return new;
  end if;
  if tg_op = 'UPDATE' or new.town_id is null then
    select a.town_id, a.community_id, a.grid_id, a.police_station_id
      into new.town_id, new.community_id, new.grid_id, new.police_station_id
      from premises_areas(new.geom) a;
  end if;
  if new.town_id is null then
    raise exception 'the location (%, %) is outside every town or street of the district',
      round(st_x(new.geom)::numeric, 6), round(st_y(new.geom)::numeric, 6)
      using errcode = '23514', constraint = 'premises_inside_district';
  end if;
  return new;
end $$;

-- The hazard summary of a set of premises at once (an import's merge passes every premises whose
-- hazards it wrote); the one-premises and whole-table versions are now this rule too.
create function refresh_hazard_summaries(ids bigint[]) returns void language sql as $$
  update premises p set
    hazard_count = s.hazard_count,
    open_count = s.open_count,
    open_major_count = s.open_major_count,
    open_min_deadline = s.open_min_deadline
  from (
    select x.id,
           count(h.id)::int as hazard_count,
           count(h.id) filter (where h.rectified_at is null)::int as open_count,
           count(h.id) filter (where h.rectified_at is null and h.severity = 'major')::int as open_major_count,
           min(h.deadline) filter (where h.rectified_at is null) as open_min_deadline
    from (select distinct unnest(ids) as id) x left join hazard h on h.premises_id = x.id
    group by x.id
  ) s
  where p.id = s.id
$$;

create or replace function premises_refresh_hazard_summary(pid bigint) returns void language sql as $$
  select refresh_hazard_summaries(array[pid])
$$;

create or replace function refresh_all_hazard_summaries() returns void language sql as $$
  select refresh_hazard_summaries(array(select id from premises))
$$;
