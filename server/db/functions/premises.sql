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

-- Premises get their town, community, grid cell and police station from their point, unless the
-- writer already set them (bulk loaders compute them in one pass).
create or replace function premises_assign_areas() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and new.geom is not distinct from old.geom then
    return new;
  end if;
  if tg_op = 'UPDATE' or new.town_id is null then
    new.town_id := (select id from admin_area a where a.level = 'town' and a.valid_to is null
                      and st_intersects(a.geom, new.geom) order by id limit 1);
    new.community_id := (select id from admin_area a where a.level = 'community' and a.valid_to is null
                      and st_intersects(a.geom, new.geom) order by id limit 1);
    new.grid_id := (select id from admin_area a where a.level = 'grid' and a.valid_to is null
                      and st_intersects(a.geom, new.geom) order by id limit 1);
    new.police_station_id := (select id from police_station s where s.valid_to is null
                      and st_intersects(s.geom, new.geom) order by id limit 1);
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

-- The per-premises hazard summary that colours the map, kept by a row trigger on hazard.
create or replace function premises_refresh_hazard_summary(pid bigint) returns void language sql as $$
  update premises p set
    hazard_count = s.hazard_count,
    open_count = s.open_count,
    open_major_count = s.open_major_count,
    open_min_deadline = s.open_min_deadline
  from (
    select count(*)::int as hazard_count,
           count(*) filter (where rectified_at is null)::int as open_count,
           count(*) filter (where rectified_at is null and severity = 'major')::int as open_major_count,
           min(deadline) filter (where rectified_at is null) as open_min_deadline
    from hazard where premises_id = pid
  ) s
  where p.id = pid
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

-- A bulk write skips the row trigger above and calls this once instead.
create or replace function refresh_all_hazard_summaries() returns void language sql as $$
  update premises p set
    hazard_count = coalesce(s.hazard_count, 0),
    open_count = coalesce(s.open_count, 0),
    open_major_count = coalesce(s.open_major_count, 0),
    open_min_deadline = s.open_min_deadline
  from premises p2
  left join (
    select premises_id,
           count(*)::int as hazard_count,
           count(*) filter (where rectified_at is null)::int as open_count,
           count(*) filter (where rectified_at is null and severity = 'major')::int as open_major_count,
           min(deadline) filter (where rectified_at is null) as open_min_deadline
    from hazard group by premises_id
  ) s on s.premises_id = p2.id
  where p.id = p2.id
$$;
