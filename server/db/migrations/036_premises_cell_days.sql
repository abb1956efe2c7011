-- What a drawn key area holds on a day (attachment 3's figures, countsInside in
-- server/plugins/app/key-areas-boundary.ts), pre-grouped by the tiles' zoom-13 cells (premises_cell,
-- migration 006) as daily changes: "on day D" is a sum over days <= D. The preview then reads the
-- cells lying wholly inside the polygon from here and counts exact points only in the cells its
-- boundary crosses, instead of every premises, resident and hazard inside (seconds at a million).
--
-- Interval counts, +1 on the day something starts to count and -1 on the day it stops, each clipped
-- to the premises' own [found_on, deregistered_on):
--   houses, rental_houses, group_rentals   the premises (let dwellings / group rental candidates)
--   residents_registered                   from the latest of moved in, registered, found; until moved out
--   hz_<category>                          a hazard, from the local day found until the local day rectified
--   group_rentals_with_hazards             a group rental candidate while at least one hazard is open
--                                          (the union of its hazards' intervals)
--
-- Kept exact per premises: premises_cell_day_source holds what each premises added, so that any
-- change to a premises, its residents or its hazards takes that away and adds what it brings now
-- (refresh_premises_cell_days). Statement triggers collect the premises touched
-- (server/db/functions/key-area-cells.sql); bulk writers (the seed, an import's merge) call the
-- refresh functions themselves. The local day is Asia/Shanghai's, as local_day() has it.

create type cell_day_delta as (
  day date, houses int, rental_houses int, group_rentals int, group_rentals_with_hazards int,
  residents_registered int, hz_public_security int, hz_fire int, hz_housing int, hz_other int
);

create table premises_cell_day (
  cx                          int not null,
  cy                          int not null,
  town_id                     int not null,
  police_station_id           int not null,    -- 0 when none
  day                         date not null,
  houses                      int not null default 0,
  rental_houses               int not null default 0,
  group_rentals               int not null default 0,
  group_rentals_with_hazards  int not null default 0,
  residents_registered        int not null default 0,
  hz_public_security          int not null default 0,
  hz_fire                     int not null default 0,
  hz_housing                  int not null default 0,
  hz_other                    int not null default 0,
  primary key (cx, cy, town_id, police_station_id, day)
);

create table premises_cell_day_source (
  premises_id        bigint primary key,
  cx                 int not null,
  cy                 int not null,
  town_id            int not null,
  police_station_id  int not null,
  deltas             cell_day_delta[] not null
);

-- A cell as the longitude / latitude rectangle it is (Web Mercator keeps cells rectangles), widened
-- by a centimetre so that every point premises_cell_x / _y put in the cell lies inside it for sure.
create function premises_cell_rect(cx int, cy int) returns geometry language sql immutable parallel safe as $$
  select st_expand(st_transform(st_makeenvelope(
    cx * (40075016.68557849 / 524288) - 20037508.342789244, 20037508.342789244 - (cy + 1) * (40075016.68557849 / 524288),
    (cx + 1) * (40075016.68557849 / 524288) - 20037508.342789244, 20037508.342789244 - cy * (40075016.68557849 / 524288), 3857), 4326), 1e-7)
$$;

-- The daily changes each of the given premises brings, from its rows as they are now.
create function premises_cell_day_rows(ids bigint[])
returns table (premises_id bigint, cx int, cy int, town_id int, police_station_id int, deltas cell_day_delta[])
language sql stable as $$
  with p as materialized (
    select p.id, premises_cell_x(st_x(p.geom_m)) as cx, premises_cell_y(st_y(p.geom_m)) as cy, p.town_id,
           coalesce(p.police_station_id, 0) as ps, p.found_on as f, coalesce(p.deregistered_on, 'infinity') as e,
           p.kind in ('rental', 'group_rental') as rental, is_group_rental_candidate(p.kind, p.meets_rule) as gr
    from premises p where p.id in (select unnest(ids))
  ),
  -- Intervals [s, e) of what counts, one per premises, resident, hazard and island of open hazards.
  spans as (
    select p.id, p.f as s, p.e, 1 as h, p.rental::int as rh, p.gr::int as g, 0 as gh, 0 as r, null::text as c from p
    union all
    select p.id, greatest(r.moved_in_on, r.registered_on, p.f), least(coalesce(r.moved_out_on, 'infinity'), p.e), 0, 0, 0, 0, 1, null
    from p join resident r on r.premises_id = p.id where r.registered_on is not null
    union all
    select p.id, greatest((h.found_at at time zone 'Asia/Shanghai')::date, p.f), least(coalesce((h.rectified_at at time zone 'Asia/Shanghai')::date, 'infinity'), p.e), 0, 0, 0, 0, 0, i.category_code
    from p join hazard h on h.premises_id = p.id join hazard_item i on i.code = h.item_code
    union all
    select i.id, greatest(i.s, p.f), least(i.e, p.e), 0, 0, 0, 1, 0, null
    from (
      select id, min(s) as s, max(e) as e from (
        select id, s, e, sum(starts) over (partition by id order by s, e rows unbounded preceding) as island from (
          select id, s, e, case when s <= max(e) over (partition by id order by s, e rows between unbounded preceding and 1 preceding)
                                then 0 else 1 end as starts
          from (select p.id, (h.found_at at time zone 'Asia/Shanghai')::date as s,
                       coalesce((h.rectified_at at time zone 'Asia/Shanghai')::date, 'infinity') as e
                from p join hazard h on h.premises_id = p.id where p.gr) hz
        ) m
      ) g group by id, island
    ) i join p on p.id = i.id
  ),
  changes as (
    select id, s as day, 1 as sign, h, rh, g, gh, r, c from spans where e > s
    union all select id, e, -1, h, rh, g, gh, r, c from spans where e > s and e <> 'infinity'
  ),
  days as (
    select id, day, sum(sign * h)::int as h, sum(sign * rh)::int as rh, sum(sign * g)::int as g, sum(sign * gh)::int as gh,
           sum(sign * r)::int as r, (sum(sign) filter (where c = 'public_security'))::int as ps,
           (sum(sign) filter (where c = 'fire'))::int as fire, (sum(sign) filter (where c = 'housing'))::int as housing,
           (sum(sign) filter (where c = 'other'))::int as other
    from changes group by id, day
  )
  select p.id, p.cx, p.cy, p.town_id, p.ps,
         array_agg(row(d.day, d.h, d.rh, d.g, d.gh, d.r, coalesce(d.ps, 0), coalesce(d.fire, 0), coalesce(d.housing, 0), coalesce(d.other, 0))::cell_day_delta order by d.day)
  from p join days d on d.id = p.id
  group by p.id, p.cx, p.cy, p.town_id, p.ps
$$;

-- Adds (sign 1) or takes away (sign -1) the changes held for the given premises.
create function premises_cell_day_apply(ids bigint[], sign int) returns void language sql as $$
  insert into premises_cell_day as c
  select s.cx, s.cy, s.town_id, s.police_station_id, d.day,
         sign * sum(d.houses), sign * sum(d.rental_houses), sign * sum(d.group_rentals), sign * sum(d.group_rentals_with_hazards),
         sign * sum(d.residents_registered), sign * sum(d.hz_public_security), sign * sum(d.hz_fire), sign * sum(d.hz_housing), sign * sum(d.hz_other)
  from premises_cell_day_source s cross join unnest(s.deltas) d
  where s.premises_id in (select unnest(ids))
  group by 1, 2, 3, 4, 5
  on conflict (cx, cy, town_id, police_station_id, day) do update set
    houses = c.houses + excluded.houses, rental_houses = c.rental_houses + excluded.rental_houses,
    group_rentals = c.group_rentals + excluded.group_rentals,
    group_rentals_with_hazards = c.group_rentals_with_hazards + excluded.group_rentals_with_hazards,
    residents_registered = c.residents_registered + excluded.residents_registered,
    hz_public_security = c.hz_public_security + excluded.hz_public_security, hz_fire = c.hz_fire + excluded.hz_fire,
    hz_housing = c.hz_housing + excluded.hz_housing, hz_other = c.hz_other + excluded.hz_other;
$$;

-- A day whose changes all cancelled out is no row at all (as the rebuild from scratch leaves it).
create function premises_cell_day_prune(ids bigint[]) returns void language sql as $$
  delete from premises_cell_day c
  where (c.houses, c.rental_houses, c.group_rentals, c.group_rentals_with_hazards, c.residents_registered,
         c.hz_public_security, c.hz_fire, c.hz_housing, c.hz_other) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
    and (c.cx, c.cy) in (select cx, cy from premises_cell_day_source where premises_id in (select unnest(ids)));
$$;

-- The given premises' changes again from their rows (a premises gone takes its changes with it);
-- pruned in the cells they leave and in those they enter.
create function refresh_premises_cell_days(ids bigint[]) returns void language sql as $$
  select premises_cell_day_apply(ids, -1);
  select premises_cell_day_prune(ids);
  delete from premises_cell_day_source where premises_id in (select unnest(ids));
  insert into premises_cell_day_source select * from premises_cell_day_rows(ids);
  select premises_cell_day_apply(ids, 1);
  select premises_cell_day_prune(ids);
$$;

-- Every premises' changes from scratch (the seed, after its load; this migration).
create function refresh_all_premises_cell_days() returns void language sql as $$
  delete from premises_cell_day;
  delete from premises_cell_day_source;
  insert into premises_cell_day_source select * from premises_cell_day_rows(array(select id from premises));
  insert into premises_cell_day
  select s.cx, s.cy, s.town_id, s.police_station_id, d.day, sum(d.houses), sum(d.rental_houses), sum(d.group_rentals),
         sum(d.group_rentals_with_hazards), sum(d.residents_registered), sum(d.hz_public_security), sum(d.hz_fire),
         sum(d.hz_housing), sum(d.hz_other)
  from premises_cell_day_source s cross join unnest(s.deltas) d
  group by 1, 2, 3, 4, 5
  having (sum(d.houses), sum(d.rental_houses), sum(d.group_rentals), sum(d.group_rentals_with_hazards), sum(d.residents_registered),
          sum(d.hz_public_security), sum(d.hz_fire), sum(d.hz_housing), sum(d.hz_other)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0);
$$;

select refresh_all_premises_cell_days();
analyze premises_cell_day;
