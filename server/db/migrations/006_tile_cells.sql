-- Pre-aggregated premises for low-zoom tiles. A zoom-10 tile of a million premises would otherwise
-- group a million rows per request; this table holds them already grouped by 76 m cells (the cells
-- of a zoom-13 tile cut 64 x 64), by what tiles filter on (town, police station, kind) and by what
-- decides a premises' status on any day (hazards found, open, open major, earliest open deadline).
-- A row trigger keeps it exact on every change; bulk loaders call refresh_premises_cells().

create table premises_cell (
  cx                 int not null,
  cy                 int not null,
  town_id            int not null,
  police_station_id  int not null,    -- 0 when none
  kind               text not null,
  has_hazard         boolean not null,
  has_open           boolean not null,
  has_open_major     boolean not null,
  open_min_deadline  date not null,   -- 'infinity' when none
  n                  int not null check (n >= 0),
  sum_x              double precision not null,
  sum_y              double precision not null,
  primary key (cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
);

-- Cell numbers of a Web Mercator point: 2^19 cells across the world, rows counted from the north.
create function premises_cell_x(mx double precision) returns int language sql immutable parallel safe as $$
  select floor((mx + 20037508.342789244) / (40075016.68557849 / 524288))::int
$$;
create function premises_cell_y(my double precision) returns int language sql immutable parallel safe as $$
  select floor((20037508.342789244 - my) / (40075016.68557849 / 524288))::int
$$;

create function premises_cell_sync() returns trigger language plpgsql as $$
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
    where cx = premises_cell_x(st_x(old.geom_m)) and cy = premises_cell_y(st_y(old.geom_m))
      and town_id = old.town_id and police_station_id = coalesce(old.police_station_id, 0) and kind = old.kind
      and has_hazard = (old.hazard_count > 0) and has_open = (old.open_count > 0) and has_open_major = (old.open_major_count > 0)
      and open_min_deadline = coalesce(old.open_min_deadline, 'infinity');
    delete from premises_cell where n = 0 and cx = premises_cell_x(st_x(old.geom_m)) and cy = premises_cell_y(st_y(old.geom_m));
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    insert into premises_cell as c values (
      premises_cell_x(st_x(new.geom_m)), premises_cell_y(st_y(new.geom_m)), new.town_id, coalesce(new.police_station_id, 0),
      new.kind, new.hazard_count > 0, new.open_count > 0, new.open_major_count > 0, coalesce(new.open_min_deadline, 'infinity'),
      1, st_x(new.geom_m), st_y(new.geom_m))
    on conflict (cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
    do update set n = c.n + 1, sum_x = c.sum_x + excluded.sum_x, sum_y = c.sum_y + excluded.sum_y;
  end if;
  return null;
end $$;
create trigger premises_cell_trg after insert or update or delete on premises
  for each row execute function premises_cell_sync();

create function refresh_premises_cells() returns void language sql as $$
  delete from premises_cell;
  insert into premises_cell
  select premises_cell_x(st_x(geom_m)), premises_cell_y(st_y(geom_m)), town_id, coalesce(police_station_id, 0), kind,
         hazard_count > 0, open_count > 0, open_major_count > 0, coalesce(open_min_deadline, 'infinity'),
         count(*), sum(st_x(geom_m)), sum(st_y(geom_m))
  from premises
  group by 1, 2, 3, 4, 5, 6, 7, 8, 9;
$$;

select refresh_premises_cells();
