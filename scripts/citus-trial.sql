-- The trial of docs/scale.md, "A province": the part of the schema that the map's tiles, the legend's
-- counts and the key-area preview read, with district_id on every per-premises table, loaded with the
-- 1,000,000 premises of grd_s27 split into four districts. scripts/citus-trial.sh runs this file
-- twice: with -v distributed=true on the Citus coordinator (database trial) and with
-- -v distributed=false on plain PostgreSQL (database plain: the same tables, not distributed), so
-- that the figures compare the same rows and indexes. The rows come from the files citus-trial.sh
-- dumped from grd_s27 into /tmp/citus-trial/ (\copy cannot take a variable as its path).
\set ON_ERROR_STOP on
\timing on
set client_min_messages = warning;

drop table if exists hazard, premises_cell, premises, hazard_item, admin_area cascade;

-- The map's colour of a premises on a day (server/db/functions/premises.sql).
create or replace function hazard_status(hazard_count int, open_count int, open_major_count int,
                                         open_min_deadline date, on_date date)
returns text language sql immutable parallel safe as $$
  select case
    when hazard_count = 0 then 'none'
    when open_count = 0 then 'rectified'
    when open_min_deadline < on_date then 'overdue'
    when open_major_count > 0 then 'open_major'
    else 'open_general'
  end
$$;

-- The app's guard against parallel plans (server/db/functions/common.sql), which the tile and count
-- queries carry: kept so that the queries are the app's.
create or replace function serial_plan() returns boolean language plpgsql stable parallel unsafe as $$
begin
  return true;
end $$;

-- Cell numbers of a Web Mercator point (server/db/functions/tiles.sql).
create or replace function premises_cell_x(mx double precision) returns int language sql immutable parallel safe as $$
  select floor((mx + 20037508.342789244) / (40075016.68557849 / 524288))::int
$$;
create or replace function premises_cell_y(my double precision) returns int language sql immutable parallel safe as $$
  select floor((20037508.342789244 - my) / (40075016.68557849 / 524288))::int
$$;

-- Reference tables: small, read with every district's rows, so a copy on every node.
create table admin_area (
  id int primary key,
  level text not null,
  parent_id int,
  code text not null,
  name_en text not null,
  valid_to date,
  geom geometry(MultiPolygon, 4326) not null
);
create table hazard_item (
  code text primary key,
  category_code text not null,
  name_en text not null
);

-- What the tiles, counts and preview read of a premises. meets_rule is generated from rooms, beds
-- and occupants in the app; here it is copied as it was computed.
create table premises (
  district_id int not null,
  id bigint not null,
  kind text not null,
  geom geometry(Point, 4326) not null,
  geom_m geometry(Point, 3857) generated always as (st_transform(geom, 3857)) stored,
  town_id int not null,
  community_id int,
  police_station_id int,
  meets_rule boolean,
  found_on date not null,
  registered_on date,
  deregistered_on date,
  hazard_count int not null default 0,
  open_count int not null default 0,
  open_major_count int not null default 0,
  open_min_deadline date,
  primary key (district_id, id)
);

-- What the hazard summary (premises.hazard_count and the rest) is computed from.
create table hazard (
  district_id int not null,
  id bigint not null,
  premises_id bigint not null,
  item_code text not null,
  severity text not null,
  found_at timestamptz not null,
  rectified_at timestamptz,
  deadline date,
  primary key (district_id, id)
);

-- The zoom-13 cells of the tiles below zoom 14 (migration 006), per district. district_id ends the
-- key: a tile reads the key by cx and cy, with or without a district.
create table premises_cell (
  district_id int not null,
  cx int not null,
  cy int not null,
  town_id int not null,
  police_station_id int not null,
  kind text not null,
  has_hazard boolean not null,
  has_open boolean not null,
  has_open_major boolean not null,
  open_min_deadline date not null,
  n int not null check (n >= 0),
  sum_x double precision not null,
  sum_y double precision not null,
  primary key (cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, district_id)
);

\if :distributed
select create_reference_table('admin_area');
select create_reference_table('hazard_item');
select create_distributed_table('premises', 'district_id');
-- Co-located: a district's premises, hazards and cells are in shards on the same node, so joins and
-- triggers within a district stay there.
select create_distributed_table('hazard', 'district_id', colocate_with => 'premises');
select create_distributed_table('premises_cell', 'district_id', colocate_with => 'premises');
\endif

\echo load: reference tables, premises, hazards
\copy admin_area (id, level, parent_id, code, name_en, valid_to, geom) from '/tmp/citus-trial/admin_area.copy'
\copy hazard_item (code, category_code, name_en) from '/tmp/citus-trial/hazard_item.copy'
\copy premises (district_id, id, kind, geom, town_id, community_id, police_station_id, meets_rule, found_on, registered_on, deregistered_on, hazard_count, open_count, open_major_count, open_min_deadline) from '/tmp/citus-trial/premises.copy'
\copy hazard (district_id, id, premises_id, item_code, severity, found_at, rectified_at, deadline) from '/tmp/citus-trial/hazard.copy'

\echo indexes and foreign keys
create index premises_geom_idx on premises using gist (geom);
create index premises_geom_m_idx on premises using gist (geom_m);
create index hazard_premises_idx on hazard (district_id, premises_id);
-- Named: Citus 13.2.2 adds an unnamed foreign key to the shards NOT VALID, without checking the rows
-- already there, while the coordinator's catalogue calls it valid; a named one is checked on the shards.
alter table hazard add constraint hazard_premises_fkey foreign key (district_id, premises_id)
  references premises (district_id, id) on delete cascade;
alter table hazard add constraint hazard_item_fkey foreign key (item_code) references hazard_item (code);

\echo cells: refresh_premises_cells() grouped by district too, with its plan (on Citus: pushed down or not)
explain (analyze, costs off, timing off)
insert into premises_cell
select district_id, premises_cell_x(st_x(geom_m)), premises_cell_y(st_y(geom_m)), town_id, coalesce(police_station_id, 0), kind,
       hazard_count > 0, open_count > 0, open_major_count > 0, coalesce(open_min_deadline, 'infinity'),
       count(*), sum(st_x(geom_m)), sum(st_y(geom_m))
from premises
group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
order by 2 >> 6, 3 >> 6, 2, 3;

\echo analyze
analyze admin_area, hazard_item, premises, hazard, premises_cell;

-- The row triggers that keep a premises' hazard summary and the cells exact, as the app's do
-- (hazard_summary, premises_cell_sync), each writing rows of the same district only, so that on
-- Citus they run on the shard's node against its co-located shards.
-- PL/pgSQL, where the app's is a SQL function: Citus cannot plan a SQL function's statement on a
-- distributed table with the function's parameters in it (citus-trial.sh shows the error).
create or replace function refresh_hazard_summary(d int, pid bigint) returns void language plpgsql as $$
begin
  update premises p set hazard_count = s.hazard_count, open_count = s.open_count,
                        open_major_count = s.open_major_count, open_min_deadline = s.open_min_deadline
  from (
    select count(h.id)::int as hazard_count,
           count(h.id) filter (where h.rectified_at is null)::int as open_count,
           count(h.id) filter (where h.rectified_at is null and h.severity = 'major')::int as open_major_count,
           min(h.deadline) filter (where h.rectified_at is null) as open_min_deadline
    from hazard h where h.district_id = d and h.premises_id = pid
  ) s
  where p.district_id = d and p.id = pid;
end $$;

create or replace function hazard_summary() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform refresh_hazard_summary(old.district_id, old.premises_id);
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.premises_id <> old.premises_id) then
    perform refresh_hazard_summary(new.district_id, new.premises_id);
  end if;
  return null;
end $$;

create or replace function premises_cell_sync() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE'
     and new.geom_m is not distinct from old.geom_m and new.town_id = old.town_id
     and new.police_station_id is not distinct from old.police_station_id and new.kind = old.kind
     and (new.hazard_count > 0) = (old.hazard_count > 0) and (new.open_count > 0) = (old.open_count > 0)
     and (new.open_major_count > 0) = (old.open_major_count > 0)
     and new.open_min_deadline is not distinct from old.open_min_deadline then
    return null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    update premises_cell set n = n - 1, sum_x = sum_x - st_x(old.geom_m), sum_y = sum_y - st_y(old.geom_m)
    where district_id = old.district_id and cx = premises_cell_x(st_x(old.geom_m)) and cy = premises_cell_y(st_y(old.geom_m))
      and town_id = old.town_id and police_station_id = coalesce(old.police_station_id, 0) and kind = old.kind
      and has_hazard = (old.hazard_count > 0) and has_open = (old.open_count > 0) and has_open_major = (old.open_major_count > 0)
      and open_min_deadline = coalesce(old.open_min_deadline, 'infinity');
    delete from premises_cell
    where district_id = old.district_id and n = 0 and cx = premises_cell_x(st_x(old.geom_m)) and cy = premises_cell_y(st_y(old.geom_m));
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    insert into premises_cell as c values (
      new.district_id, premises_cell_x(st_x(new.geom_m)), premises_cell_y(st_y(new.geom_m)), new.town_id,
      coalesce(new.police_station_id, 0), new.kind, new.hazard_count > 0, new.open_count > 0, new.open_major_count > 0,
      coalesce(new.open_min_deadline, 'infinity'), 1, st_x(new.geom_m), st_y(new.geom_m))
    on conflict (cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, district_id)
    do update set n = c.n + 1, sum_x = c.sum_x + excluded.sum_x, sum_y = c.sum_y + excluded.sum_y;
  end if;
  return null;
end $$;

-- Citus refuses triggers on distributed tables unless told they are safe (citus-trial.sh checks the
-- refusal); these are, as they write only co-located rows of their own district.
\if :distributed
set citus.enable_unsafe_triggers = on;
\endif
create trigger hazard_summary_trg after insert or update or delete on hazard
  for each row execute function hazard_summary();
create trigger premises_cell_trg after insert or update or delete on premises
  for each row execute function premises_cell_sync();
