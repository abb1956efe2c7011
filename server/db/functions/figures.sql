-- A counter for everything the dashboard's figures are computed from (table figures_version,
-- migration 027), which caches of those figures key on, as tile caches key on data_version. Bumped
-- by a statement trigger on every table those figures read, the derived daily-change tables
-- included, so a set-wise rebuild (an import's merge with the row triggers off) bumps it as well.
-- Each new version says which towns it changed (figures_change, migration 051) when the statement's
-- rows tell: premises, residents, hazards and the daily changes; any other table, a truncate, a bulk
-- write (its rows are not looked through) or a bump by hand changes everything. A statement that
-- wrote no row is no new version.

-- A new figures version, changed in `towns` (null: everywhere). The change is written before the
-- counter, whose announcement (functions/versions.sql) reads it.
create or replace function record_figures_change(towns int[]) returns void language plpgsql as $$
declare
  v bigint;
begin
  select version + 1 into v from figures_version for update;
  insert into figures_change (version, towns) values (v, case when cardinality(towns) <= 256 then towns end);
  update figures_version set version = v;
  if v % 1000 = 0 then
    delete from figures_change where version <= v - 10000;
  end if;
end $$;

-- Everything changed: tables whose rows name no town, truncates, and bulk writes.
create or replace function bump_figures_version() returns trigger language plpgsql as $$
begin
  perform record_figures_change(null);
  return null;
end $$;

-- The towns a statement's rows are in (new_rows, old_rows, or both for an update).
create or replace function bump_figures_version_in_towns() returns trigger language plpgsql as $$
declare
  towns int[];
begin
  if bulk_load_active() then
    perform record_figures_change(null);
    return null;
  end if;
  if tg_table_name in ('premises', 'measure_delta', 'hazard_delta') then
    if tg_op = 'INSERT' then
      select array_agg(distinct town_id) into towns from new_rows;
    elsif tg_op = 'DELETE' then
      select array_agg(distinct town_id) into towns from old_rows;
    else
      select array_agg(distinct town_id) into towns
      from (select town_id from new_rows union all select town_id from old_rows) s;
    end if;
  else
    -- Residents and hazards are in their premises' town. Those whose premises is gone (deleted with
    -- it, a cascade) changed the premises' town, which the premises' own statement records.
    if tg_op = 'INSERT' then
      select array_agg(distinct p.town_id) filter (where p.id is not null) into towns from new_rows r left join premises p on p.id = r.premises_id;
    elsif tg_op = 'DELETE' then
      select array_agg(distinct p.town_id) filter (where p.id is not null) into towns
      from old_rows r left join premises p on p.id = r.premises_id;
    else
      select array_agg(distinct p.town_id) filter (where p.id is not null) into towns
      from (select premises_id from new_rows union all select premises_id from old_rows) r left join premises p on p.id = r.premises_id;
    end if;
  end if;
  if towns is not null then
    perform record_figures_change(towns);
  end if;
  return null;
end $$;

drop trigger if exists premises_figures_trg on premises;
drop trigger if exists resident_figures_trg on resident;
drop trigger if exists hazard_figures_trg on hazard;
drop trigger if exists measure_delta_figures_trg on measure_delta;
drop trigger if exists hazard_delta_figures_trg on hazard_delta;
create or replace trigger premises_figures_ins after insert on premises referencing new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger premises_figures_upd after update on premises referencing old table as old_rows new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger premises_figures_del after delete on premises referencing old table as old_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger premises_figures_truncate after truncate on premises
  for each statement execute function bump_figures_version();
create or replace trigger resident_figures_ins after insert on resident referencing new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger resident_figures_upd after update on resident referencing old table as old_rows new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger resident_figures_del after delete on resident referencing old table as old_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger resident_figures_truncate after truncate on resident
  for each statement execute function bump_figures_version();
create or replace trigger hazard_figures_ins after insert on hazard referencing new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger hazard_figures_upd after update on hazard referencing old table as old_rows new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger hazard_figures_del after delete on hazard referencing old table as old_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger hazard_figures_truncate after truncate on hazard
  for each statement execute function bump_figures_version();
create or replace trigger measure_delta_figures_ins after insert on measure_delta referencing new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger measure_delta_figures_upd after update on measure_delta referencing old table as old_rows new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger measure_delta_figures_del after delete on measure_delta referencing old table as old_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger measure_delta_figures_truncate after truncate on measure_delta
  for each statement execute function bump_figures_version();
create or replace trigger hazard_delta_figures_ins after insert on hazard_delta referencing new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger hazard_delta_figures_upd after update on hazard_delta referencing old table as old_rows new table as new_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger hazard_delta_figures_del after delete on hazard_delta referencing old table as old_rows
  for each statement execute function bump_figures_version_in_towns();
create or replace trigger hazard_delta_figures_truncate after truncate on hazard_delta
  for each statement execute function bump_figures_version();

create or replace trigger hazard_item_figures_trg after insert or update or delete or truncate on hazard_item
  for each statement execute function bump_figures_version();
create or replace trigger admin_area_figures_trg after insert or update or delete or truncate on admin_area
  for each statement execute function bump_figures_version();
create or replace trigger police_station_figures_trg after insert or update or delete or truncate on police_station
  for each statement execute function bump_figures_version();
-- The campaign, its phases and targets: the figures' measures and every map request's day follow
-- them, and the app keeps the campaign under this version too.
create or replace trigger campaign_figures_trg after insert or update or delete or truncate on campaign
  for each statement execute function bump_figures_version();
create or replace trigger campaign_phase_figures_trg after insert or update or delete or truncate on campaign_phase
  for each statement execute function bump_figures_version();
create or replace trigger campaign_target_figures_trg after insert or update or delete or truncate on campaign_target
  for each statement execute function bump_figures_version();
-- Places (schools, factories, villages): the rings around them are kept under this version.
create or replace trigger poi_figures_trg after insert or update or delete or truncate on poi
  for each statement execute function bump_figures_version();
