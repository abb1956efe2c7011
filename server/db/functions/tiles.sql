-- What the map's tiles read: a data version their caches follow, and the premises pre-aggregated in
-- cells for low zooms (table premises_cell, migration 006).

-- One counter for everything a map tile shows. A statement-level trigger bumps it on any change to
-- premises that the map shows, from the API, an import or psql alike; tile caches key on it. Each new
-- version says where it changed the map (data_change, migration 049): the zoom-16 tiles of the
-- premises the statement wrote (before and after a move); a statement that wrote no row, or changed
-- nothing the map shows, is no new version. Hazards reach the map through their premises' summary
-- (hazard_summary(), functions/premises.sql), which their row trigger writes to the premises.

-- A new data version, changed at `areas` (zoom-16 tiles; null: everywhere). More areas than an
-- announcement may carry (8,000 bytes) count as everywhere. The change is written before the counter,
-- whose announcement (functions/versions.sql) reads it.
create or replace function record_data_change(areas bigint[]) returns void language plpgsql as $$
declare
  v bigint;
begin
  select version + 1 into v from data_version for update;
  insert into data_change (version, areas) values (v, case when cardinality(areas) <= 256 then areas end);
  update data_version set version = v;
  if v % 1000 = 0 then
    delete from data_change where version <= v - 10000;
  end if;
end $$;

create or replace function bump_data_version() returns trigger language plpgsql as $$
declare
  areas bigint[];
begin
  if tg_op = 'INSERT' then
    select array_agg(distinct map_area(geom_m)) into areas from new_rows;
  elsif tg_op = 'DELETE' then
    select array_agg(distinct map_area(geom_m)) into areas from old_rows;
  else
    -- Only the rows whose map changed: what the map shows of a premises, and what its filters and
    -- the jurisdictions read. Tiles, boxes of points and their caches read nothing else of it
    -- (server/plugins/app/premises.ts: statusSql, unregisteredSql, premisesWhere), so an update of
    -- the rooms let, an address, a phone, or a hazard summary written again unchanged keeps them.
    select array_agg(distinct a) into areas
    from new_rows n join old_rows o on o.id = n.id
    cross join lateral (values (map_area(n.geom_m)), (map_area(o.geom_m))) v(a)
    where (n.geom, n.geom_m, n.kind, n.town_id, n.community_id, n.police_station_id, n.found_on, n.meets_rule,
           n.registered_on, n.deregistered_on, n.hazard_count, n.open_count, n.open_major_count, n.open_min_deadline,
           n.first_public_security_found_on, n.first_fire_found_on, n.first_housing_found_on, n.first_other_found_on)
      is distinct from
          (o.geom, o.geom_m, o.kind, o.town_id, o.community_id, o.police_station_id, o.found_on, o.meets_rule,
           o.registered_on, o.deregistered_on, o.hazard_count, o.open_count, o.open_major_count, o.open_min_deadline,
           o.first_public_security_found_on, o.first_fire_found_on, o.first_housing_found_on, o.first_other_found_on);
  end if;
  if areas is not null then
    perform record_data_change(areas);
  end if;
  return null;
end $$;
drop trigger if exists premises_version_trg on premises;
drop trigger if exists hazard_version_trg on hazard;
-- A hazard's own statement no longer says where: its premises' summary does, when it changed.
drop trigger if exists hazard_version_ins on hazard;
drop trigger if exists hazard_version_upd on hazard;
drop trigger if exists hazard_version_del on hazard;
create or replace trigger premises_version_ins after insert on premises referencing new table as new_rows
  for each statement when (not bulk_load_active()) execute function bump_data_version();
create or replace trigger premises_version_upd after update on premises referencing old table as old_rows new table as new_rows
  for each statement when (not bulk_load_active()) execute function bump_data_version();
create or replace trigger premises_version_del after delete on premises referencing old table as old_rows
  for each statement when (not bulk_load_active()) execute function bump_data_version();
-- The dictionary's items name their category, which the map's category filter reads: a change to it
-- changes the map everywhere (rare: an administrator's edit).
create or replace function bump_data_version_everywhere() returns trigger language plpgsql as $$
begin
  perform record_data_change(null);
  return null;
end $$;
create or replace trigger hazard_item_version_trg after insert or update or delete on hazard_item
  for each statement execute function bump_data_version_everywhere();

-- Cell numbers of a Web Mercator point: 2^19 cells across the world, rows counted from the north.
create or replace function premises_cell_x(mx double precision) returns int language sql immutable parallel safe as $$
  select floor((mx + 20037508.342789244) / (40075016.68557849 / 524288))::int
$$;
create or replace function premises_cell_y(my double precision) returns int language sql immutable parallel safe as $$
  select floor((20037508.342789244 - my) / (40075016.68557849 / 524288))::int
$$;

-- The area of the map a point is in, as data_change lists them: its tile of zoom 16 (cells eight by eight), x * 65536 + y.
create or replace function map_area(g geometry) returns bigint language sql immutable parallel safe as $$
  select (premises_cell_x(st_x(g)) >> 3)::bigint * 65536 + (premises_cell_y(st_y(g)) >> 3)
$$;

-- The categories of hazard ever found at a premises, as a mask (1 public security, 2 fire, 4 housing,
-- 8 other; 0 none), from the days their first hazards were found (migration 054): the key the cells
-- of premises with hazards add (premises_cat_cell, migration 055).
create or replace function hazard_categories_mask(ps date, fire date, housing date, other date) returns smallint
language sql immutable parallel safe as $$
  select ((ps is not null)::int + 2 * (fire is not null)::int + 4 * (housing is not null)::int + 8 * (other is not null)::int)::smallint
$$;

-- A row trigger keeps the cells exact on every change; a bulk write calls refresh_premises_cells().
-- The cells of premises with hazards by category (premises_cat_cell) follow the same rows.
create or replace function premises_cell_sync() returns trigger language plpgsql as $$
declare
  old_mask smallint;
  new_mask smallint;
begin
  if tg_op in ('UPDATE', 'DELETE') then
    old_mask := hazard_categories_mask(old.first_public_security_found_on, old.first_fire_found_on, old.first_housing_found_on, old.first_other_found_on);
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    new_mask := hazard_categories_mask(new.first_public_security_found_on, new.first_fire_found_on, new.first_housing_found_on, new.first_other_found_on);
  end if;
  if tg_op = 'UPDATE'
     and new.geom_m is not distinct from old.geom_m and new.town_id = old.town_id
     and new.police_station_id is not distinct from old.police_station_id and new.kind = old.kind
     and (new.hazard_count > 0) = (old.hazard_count > 0) and (new.open_count > 0) = (old.open_count > 0)
     and (new.open_major_count > 0) = (old.open_major_count > 0)
     and new.open_min_deadline is not distinct from old.open_min_deadline and new_mask = old_mask then
    return null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    update premises_cell set n = n - 1, sum_x = sum_x - st_x(old.geom_m), sum_y = sum_y - st_y(old.geom_m)
    where cx = premises_cell_x(st_x(old.geom_m)) and cy = premises_cell_y(st_y(old.geom_m))
      and town_id = old.town_id and police_station_id = coalesce(old.police_station_id, 0) and kind = old.kind
      and has_hazard = (old.hazard_count > 0) and has_open = (old.open_count > 0) and has_open_major = (old.open_major_count > 0)
      and open_min_deadline = coalesce(old.open_min_deadline, 'infinity');
    delete from premises_cell where n = 0 and cx = premises_cell_x(st_x(old.geom_m)) and cy = premises_cell_y(st_y(old.geom_m));
    if old_mask <> 0 then
      update premises_cat_cell set n = n - 1, sum_x = sum_x - st_x(old.geom_m), sum_y = sum_y - st_y(old.geom_m)
      where cx = premises_cell_x(st_x(old.geom_m)) and cy = premises_cell_y(st_y(old.geom_m)) and categories = old_mask
        and town_id = old.town_id and police_station_id = coalesce(old.police_station_id, 0) and kind = old.kind
        and has_hazard = (old.hazard_count > 0) and has_open = (old.open_count > 0) and has_open_major = (old.open_major_count > 0)
        and open_min_deadline = coalesce(old.open_min_deadline, 'infinity');
      delete from premises_cat_cell where n = 0 and cx = premises_cell_x(st_x(old.geom_m)) and cy = premises_cell_y(st_y(old.geom_m));
    end if;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    insert into premises_cell as c values (
      premises_cell_x(st_x(new.geom_m)), premises_cell_y(st_y(new.geom_m)), new.town_id, coalesce(new.police_station_id, 0),
      new.kind, new.hazard_count > 0, new.open_count > 0, new.open_major_count > 0, coalesce(new.open_min_deadline, 'infinity'),
      1, st_x(new.geom_m), st_y(new.geom_m))
    on conflict (cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
    do update set n = c.n + 1, sum_x = c.sum_x + excluded.sum_x, sum_y = c.sum_y + excluded.sum_y;
    if new_mask <> 0 then
      insert into premises_cat_cell as c values (
        premises_cell_x(st_x(new.geom_m)), premises_cell_y(st_y(new.geom_m)), new.town_id, coalesce(new.police_station_id, 0),
        new.kind, new.hazard_count > 0, new.open_count > 0, new.open_major_count > 0, coalesce(new.open_min_deadline, 'infinity'),
        1, st_x(new.geom_m), st_y(new.geom_m), new_mask)
      on conflict (cx, cy, categories, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
      do update set n = c.n + 1, sum_x = c.sum_x + excluded.sum_x, sum_y = c.sum_y + excluded.sum_y;
    end if;
  end if;
  return null;
end $$;
create or replace trigger premises_cell_trg after insert or update or delete on premises
  for each row when (not bulk_load_active()) execute function premises_cell_sync();

-- The cells by category made again from the premises (their larger cells follow by the triggers below).
create or replace function refresh_premises_cat_cells() returns void language sql as $$
  delete from premises_cat_cell;
  insert into premises_cat_cell
  select premises_cell_x(st_x(geom_m)), premises_cell_y(st_y(geom_m)), town_id, coalesce(police_station_id, 0), kind,
         hazard_count > 0, open_count > 0, open_major_count > 0, coalesce(open_min_deadline, 'infinity'),
         count(*), sum(st_x(geom_m)), sum(st_y(geom_m)),
         hazard_categories_mask(first_public_security_found_on, first_fire_found_on, first_housing_found_on, first_other_found_on)
  from premises
  where hazard_categories_mask(first_public_security_found_on, first_fire_found_on, first_housing_found_on, first_other_found_on) <> 0
  group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 13
  order by 1 >> 6, 2 >> 6, 1, 2;
$$;

create or replace function refresh_premises_cells() returns void language sql as $$
  delete from premises_cell;
  insert into premises_cell
  select premises_cell_x(st_x(geom_m)), premises_cell_y(st_y(geom_m)), town_id, coalesce(police_station_id, 0), kind,
         hazard_count > 0, open_count > 0, open_major_count > 0, coalesce(open_min_deadline, 'infinity'),
         count(*), sum(st_x(geom_m)), sum(st_y(geom_m))
  from premises
  group by 1, 2, 3, 4, 5, 6, 7, 8, 9
  -- Laid out by zoom-13 tile, then cell: a tile's cells on neighbouring pages, not one page each.
  order by 1 >> 6, 2 >> 6, 1, 2;
  select refresh_premises_cat_cells();
$$;

-- The cells two by two and eight by eight (premises_cell2, migration 053; premises_cell8, migration
-- 046) follow every statement that writes premises_cell, whoever makes it: what a statement added is
-- added to the larger cells, what it took away taken from them (added first, so a larger cell both
-- gain and lose is never emptied on the way), and larger cells left with no premises go. What is
-- added is written in key order, so two statements adding to the same larger cells wait for each
-- other rather than deadlock; two that move premises in opposite directions between the same two
-- larger cells at the same instant can still deadlock (one of them fails and is rolled back whole),
-- as two such row changes within one cell of premises_cell always could. The trigger's arguments:
-- the table, and the bits its cx and cy drop from premises_cell's.
create or replace function premises_cell_group_sync() returns trigger language plpgsql as $$
declare
  tbl text := tg_argv[0];
  bits int := tg_argv[1]::int;
  -- The key after cx and cy: premises_cell's, and the categories of premises_cat_cell's (a third argument).
  keys text[] := array['town_id', 'police_station_id', 'kind', 'has_hazard', 'has_open', 'has_open_major', 'open_min_deadline']
    || case when tg_nargs > 2 then array[tg_argv[2]] else array[]::text[] end;
  k text := array_to_string(keys, ', ');
  ck text := (select string_agg('c.' || x, ', ') from unnest(keys) x);
  dk text := (select string_agg('d.' || x, ', ') from unnest(keys) x);
begin
  if tg_op in ('INSERT', 'UPDATE') then
    execute format($q$
      insert into %I as c (cx, cy, %s, n, sum_x, sum_y)
      select cx >> %s, cy >> %s, %s, sum(n), sum(sum_x), sum(sum_y)
      from new_rows group by 1, 2, %s order by 1, 2, %s
      on conflict (cx, cy, %s)
      do update set n = c.n + excluded.n, sum_x = c.sum_x + excluded.sum_x, sum_y = c.sum_y + excluded.sum_y$q$,
      tbl, k, bits, bits, k, k, k, k);
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    execute format($q$
      update %I c set n = c.n - d.n, sum_x = c.sum_x - d.sx, sum_y = c.sum_y - d.sy
      from (
        select cx >> %s as cx, cy >> %s as cy, %s, sum(n) as n, sum(sum_x) as sx, sum(sum_y) as sy
        from old_rows group by 1, 2, %s
      ) d
      where (c.cx, c.cy, %s) = (d.cx, d.cy, %s)$q$, tbl, bits, bits, k, k, ck, dk);
    execute format('delete from %I c where c.n = 0 and (c.cx, c.cy) in (select cx >> %s, cy >> %s from old_rows)', tbl, bits, bits);
  end if;
  return null;
end $$;
create or replace trigger premises_cell8_ins after insert on premises_cell referencing new table as new_rows
  for each statement execute function premises_cell_group_sync('premises_cell8', 3);
create or replace trigger premises_cell8_upd after update on premises_cell referencing old table as old_rows new table as new_rows
  for each statement execute function premises_cell_group_sync('premises_cell8', 3);
create or replace trigger premises_cell8_del after delete on premises_cell referencing old table as old_rows
  for each statement execute function premises_cell_group_sync('premises_cell8', 3);
create or replace trigger premises_cell2_ins after insert on premises_cell referencing new table as new_rows
  for each statement execute function premises_cell_group_sync('premises_cell2', 1);
create or replace trigger premises_cell2_upd after update on premises_cell referencing old table as old_rows new table as new_rows
  for each statement execute function premises_cell_group_sync('premises_cell2', 1);
create or replace trigger premises_cell2_del after delete on premises_cell referencing old table as old_rows
  for each statement execute function premises_cell_group_sync('premises_cell2', 1);
create or replace trigger premises_cat_cell8_ins after insert on premises_cat_cell referencing new table as new_rows
  for each statement execute function premises_cell_group_sync('premises_cat_cell8', 3, 'categories');
create or replace trigger premises_cat_cell8_upd after update on premises_cat_cell referencing old table as old_rows new table as new_rows
  for each statement execute function premises_cell_group_sync('premises_cat_cell8', 3, 'categories');
create or replace trigger premises_cat_cell8_del after delete on premises_cat_cell referencing old table as old_rows
  for each statement execute function premises_cell_group_sync('premises_cat_cell8', 3, 'categories');
create or replace trigger premises_cat_cell2_ins after insert on premises_cat_cell referencing new table as new_rows
  for each statement execute function premises_cell_group_sync('premises_cat_cell2', 1, 'categories');
create or replace trigger premises_cat_cell2_upd after update on premises_cat_cell referencing old table as old_rows new table as new_rows
  for each statement execute function premises_cell_group_sync('premises_cat_cell2', 1, 'categories');
create or replace trigger premises_cat_cell2_del after delete on premises_cat_cell referencing old table as old_rows
  for each statement execute function premises_cell_group_sync('premises_cat_cell2', 1, 'categories');
-- The function of these triggers before premises_cell2 (one table, its bits written in).
drop function if exists premises_cell8_sync();

-- A database that had cells before migration 046 or 053 gets its larger cells here, once. In key
-- order, as the triggers add cells: a tile's rows then lie on few pages (in hash order a dense
-- zoom-12 tile's 37,161 rows took 42-50 ms to group where in key order 12-23).
do $$
declare
  t record;
begin
  for t in select * from (values ('premises_cell8', 3), ('premises_cell2', 1)) as v(tbl, bits) loop
    execute format($q$
      insert into %I
      select cx >> %s, cy >> %s, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline,
             sum(n), sum(sum_x), sum(sum_y)
      from premises_cell
      where not exists (select 1 from %I)
      group by 1, 2, 3, 4, 5, 6, 7, 8, 9 order by 1, 2, 3, 4, 5, 6, 7, 8, 9$q$, t.tbl, t.bits, t.bits, t.tbl);
  end loop;
end $$;

-- A database that had premises with hazards before migration 055 gets their cells by category here,
-- once.
select refresh_premises_cat_cells() where not exists (select 1 from premises_cat_cell);
