-- Premises: their status on the map, the areas their point lies in, the summary of their hazards.

-- The colour of a premises on the map. Overdue wins over major: a missed deadline is what a
-- commander must act on first.
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

-- The areas a point lies in, in one place: the premises trigger uses it for each row it writes,
-- an import for a whole staged batch at once (the first by id where areas overlap).
-- A set-returning SQL function, so that the planner inlines it into the caller's query.
create or replace function premises_areas(g geometry)
returns table (town_id int, community_id int, grid_id int, police_station_id int)
language sql stable parallel safe as $$
  select (select id from admin_area a where a.level = 'town' and a.valid_to is null and st_intersects(a.geom, g) order by id limit 1),
         (select id from admin_area a where a.level = 'community' and a.valid_to is null and st_intersects(a.geom, g) order by id limit 1),
         (select id from admin_area a where a.level = 'grid' and a.valid_to is null and st_intersects(a.geom, g) order by id limit 1),
         (select id from police_station s where s.valid_to is null and st_intersects(s.geom, g) order by id limit 1)
$$;

-- Premises get their town, community, grid cell and police station from their point, unless the
-- writer already set them (bulk loaders compute them in one pass).
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
create or replace trigger premises_assign_areas_trg before insert or update of geom on premises
  for each row execute function premises_assign_areas();

-- The hazard summary of a set of premises at once (an import's merge passes every premises whose
-- hazards it wrote); the one-premises and whole-table versions below are this rule too.
create or replace function refresh_hazard_summaries(ids bigint[]) returns void language sql as $$
  update premises p set
    hazard_count = s.hazard_count,
    open_count = s.open_count,
    open_major_count = s.open_major_count,
    open_min_deadline = s.open_min_deadline,
    first_public_security_found_on = s.ps, first_fire_found_on = s.fire,
    first_housing_found_on = s.housing, first_other_found_on = s.other
  from (
    select x.id,
           count(h.id)::int as hazard_count,
           count(h.id) filter (where h.rectified_at is null)::int as open_count,
           count(h.id) filter (where h.rectified_at is null and h.severity = 'major')::int as open_major_count,
           min(h.deadline) filter (where h.rectified_at is null) as open_min_deadline,
           -- The day each category's first hazard was found (migration 054: the map's category filter).
           min(local_day(h.found_at)) filter (where i.category_code = 'public_security') as ps,
           min(local_day(h.found_at)) filter (where i.category_code = 'fire') as fire,
           min(local_day(h.found_at)) filter (where i.category_code = 'housing') as housing,
           min(local_day(h.found_at)) filter (where i.category_code = 'other') as other
    from (select distinct unnest(ids) as id) x
    left join hazard h on h.premises_id = x.id
    left join hazard_item i on i.code = h.item_code
    group by x.id
  ) s
  where p.id = s.id
$$;

-- The per-premises hazard summary that colours the map, kept by a row trigger on hazard.
create or replace function premises_refresh_hazard_summary(pid bigint) returns void language sql as $$
  select refresh_hazard_summaries(array[pid])
$$;

create or replace function hazard_summary() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform premises_refresh_hazard_summary(old.premises_id);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and (tg_op = 'INSERT' or new.premises_id <> old.premises_id) then
    perform premises_refresh_hazard_summary(new.premises_id);
  end if;
  return null;
end $$;
create or replace trigger hazard_summary_trg after insert or update or delete on hazard
  for each row when (not bulk_load_active()) execute function hazard_summary();

-- An item moved to another category moves its hazards' premises in the category filter: their
-- summaries are made again (an administrator's rare edit of the dictionary).
-- Other edits (names, order) read no hazard.
create or replace function hazard_item_category_moved() returns trigger language plpgsql as $$
declare
  moved text[];
begin
  select array_agg(n.code) into moved from new_rows n join old_rows o on o.code = n.code
  where n.category_code is distinct from o.category_code;
  if moved is not null then
    perform refresh_hazard_summaries(array(select distinct premises_id from hazard where item_code = any(moved)));
  end if;
  return null;
end $$;
create or replace trigger hazard_item_category_trg after update on hazard_item referencing old table as old_rows new table as new_rows
  for each statement execute function hazard_item_category_moved();

-- A bulk write skips the row trigger above and calls this once instead.
create or replace function refresh_all_hazard_summaries() returns void language sql as $$
  select refresh_hazard_summaries(array(select id from premises))
$$;

-- A premises that arrives with a ledger reference came from a ledger, whichever importer wrote it
-- (migration 023).
create or replace function premises_discovery_from_ledger() returns trigger language plpgsql as $$
begin
  if new.external_ref is not null and new.discovery_method = 'patrol' then
    new.discovery_method := 'ledger_import';
  end if;
  return new;
end $$;
create or replace trigger premises_discovery_trg before insert on premises
  for each row execute function premises_discovery_from_ledger();

-- A premises' kind over time (migration 025): group_rental_since is the day it became a group
-- rental (its found day when recorded as one from the start); premises_kind_change keeps every change.
create or replace function premises_track_kind() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    new.group_rental_since := case when new.kind = 'group_rental' then coalesce(new.group_rental_since, new.found_on) end;
    return new;
  end if;
  if new.kind is distinct from old.kind then
    if new.kind = 'group_rental' then
      -- The writer may say when it became one (an import of a ledger); otherwise it is today.
      new.group_rental_since := case when new.group_rental_since is not null and new.group_rental_since is distinct from old.group_rental_since
                                     then new.group_rental_since else greatest(new.found_on, local_day(now())) end;
    else
      new.group_rental_since := null;
    end if;
    insert into premises_kind_change (premises_id, from_kind, to_kind, changed_on, user_id)
      values (new.id, old.kind, new.kind, coalesce(new.group_rental_since, local_day(now())),
              nullif(current_setting('app.user_id', true), '')::int);
  else
    -- Without a change of kind the day stays as it was: it is history, not a field to edit.
    new.group_rental_since := old.group_rental_since;
  end if;
  return new;
end $$;
create or replace trigger premises_track_kind_trg before insert or update of kind, group_rental_since on premises
  for each row execute function premises_track_kind();
