-- A premises' changes summed (premises_cell_day_source.total, migration 052): the day of its last
-- change, then each count.
create or replace function cell_day_total(deltas cell_day_delta[]) returns cell_day_delta
language sql immutable parallel safe as $$
  select row(coalesce(max(d.day), '-infinity'::date),
             coalesce(sum(d.houses), 0), coalesce(sum(d.rental_houses), 0), coalesce(sum(d.group_rentals), 0),
             coalesce(sum(d.group_rentals_with_hazards), 0), coalesce(sum(d.residents_registered), 0),
             coalesce(sum(d.hz_public_security), 0), coalesce(sum(d.hz_fire), 0), coalesce(sum(d.hz_housing), 0),
             coalesce(sum(d.hz_other), 0))::cell_day_delta
  from unnest(deltas) d
$$;

-- The key-area cells' daily changes (premises_cell_day, migration 036) and events (premises_cell_event,
-- migration 040) follow every statement that writes premises, residents or hazards: the premises it
-- touched, in what their changes and events depend on, are counted again (refresh_premises_cell_days).
-- Statement triggers with transition tables, so a statement writing many rows of one premises
-- recounts it once, from its rows as they are after it.

create or replace function premises_cell_day_sync() returns trigger language plpgsql as $$
declare
  ids bigint[];
begin
  if tg_table_name = 'premises' then
    if tg_op = 'INSERT' then
      select array_agg(id) into ids from new_rows;
    elsif tg_op = 'DELETE' then
      select array_agg(id) into ids from old_rows;
    else
      select array_agg(n.id) into ids from new_rows n join old_rows o on o.id = n.id
      where (n.geom_m, n.town_id, n.police_station_id, n.kind, n.meets_rule, n.found_on, n.registered_on, n.deregistered_on,
             n.group_rental_since, n.statement_signed_on, n.second_landlord_collected_on)
            is distinct from (o.geom_m, o.town_id, o.police_station_id, o.kind, o.meets_rule, o.found_on, o.registered_on, o.deregistered_on,
             o.group_rental_since, o.statement_signed_on, o.second_landlord_collected_on);
    end if;
  elsif tg_table_name = 'resident' then
    if tg_op = 'INSERT' then
      select array_agg(distinct premises_id) into ids from new_rows;
    elsif tg_op = 'DELETE' then
      select array_agg(distinct premises_id) into ids from old_rows;
    else
      select array_agg(distinct x.premises_id) into ids from new_rows n join old_rows o on o.id = n.id
        cross join lateral (values (n.premises_id), (o.premises_id)) x(premises_id)
      where (n.premises_id, n.moved_in_on, n.moved_out_on, n.registered_on, n.deregistered_on, n.floating)
            is distinct from (o.premises_id, o.moved_in_on, o.moved_out_on, o.registered_on, o.deregistered_on, o.floating);
    end if;
  else
    if tg_op = 'INSERT' then
      select array_agg(distinct premises_id) into ids from new_rows;
    elsif tg_op = 'DELETE' then
      select array_agg(distinct premises_id) into ids from old_rows;
    else
      select array_agg(distinct x.premises_id) into ids from new_rows n join old_rows o on o.id = n.id
        cross join lateral (values (n.premises_id), (o.premises_id)) x(premises_id)
      where (n.premises_id, n.item_code, n.found_at, n.rectified_at) is distinct from (o.premises_id, o.item_code, o.found_at, o.rectified_at);
    end if;
  end if;
  if ids is not null then
    perform refresh_premises_cell_days(ids);
  end if;
  return null;
end $$;

create or replace trigger premises_cell_day_ins after insert on premises referencing new table as new_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();
create or replace trigger premises_cell_day_upd after update on premises referencing old table as old_rows new table as new_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();
create or replace trigger premises_cell_day_del after delete on premises referencing old table as old_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();
create or replace trigger resident_cell_day_ins after insert on resident referencing new table as new_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();
create or replace trigger resident_cell_day_upd after update on resident referencing old table as old_rows new table as new_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();
create or replace trigger resident_cell_day_del after delete on resident referencing old table as old_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();
create or replace trigger hazard_cell_day_ins after insert on hazard referencing new table as new_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();
create or replace trigger hazard_cell_day_upd after update on hazard referencing old table as old_rows new table as new_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();
create or replace trigger hazard_cell_day_del after delete on hazard referencing old table as old_rows
  for each statement when (not bulk_load_active()) execute function premises_cell_day_sync();

-- A cell as the longitude / latitude rectangle it is (Web Mercator keeps cells rectangles), widened
-- by a centimetre so that every point premises_cell_x / _y put in the cell lies inside it for sure.
create or replace function premises_cell_rect(cx int, cy int) returns geometry language sql immutable parallel safe as $$
  select st_expand(st_transform(st_makeenvelope(
    cx * (40075016.68557849 / 524288) - 20037508.342789244, 20037508.342789244 - (cy + 1) * (40075016.68557849 / 524288),
    (cx + 1) * (40075016.68557849 / 524288) - 20037508.342789244, 20037508.342789244 - cy * (40075016.68557849 / 524288), 3857), 4326), 1e-7)
$$;

-- A block (migration 041: 4 x 4 cells, block_x = cell x / 4) as the rectangle of its cells, widened the same way.
create or replace function premises_block_rect(block_x int, block_y int) returns geometry language sql immutable parallel safe as $$
  select st_expand(st_transform(st_makeenvelope(
    block_x * 4 * (40075016.68557849 / 524288) - 20037508.342789244, 20037508.342789244 - (block_y * 4 + 4) * (40075016.68557849 / 524288),
    (block_x * 4 + 4) * (40075016.68557849 / 524288) - 20037508.342789244, 20037508.342789244 - block_y * 4 * (40075016.68557849 / 524288), 3857), 4326), 1e-7)
$$;

-- The blocks' running totals (migration 041) from their cells', for the blocks holding the cells
-- of the given premises (as the source has them, and as they are now), or every block: a cell's
-- change on a day is its total less the one before, a block's total on a day the sum of its
-- cells' changes up to it. A day on which the changes of a block's cells cancel has no row.
-- A function's statements are planned for any blocks (as a thousand): joined by a merge or a hash,
-- they read every cell's totals, seconds at 1,000,000 premises, and JIT-compiled them for seconds
-- more. Block by block and cell by cell instead, each by its key.
create or replace function premises_block_day_rows(blocks int[][])
returns setof premises_block_day language sql stable
set enable_hashjoin = off set enable_mergejoin = off set jit = off as $$
  with b as (select blocks[i][1] as block_x, blocks[i][2] as block_y from generate_subscripts(blocks, 1) i),
  c as (
    select b.block_x, b.block_y, d.*
    from b cross join generate_series(0, 3) i cross join generate_series(0, 3) j
    cross join lateral (
      select d.town_id, d.police_station_id, d.day,
             d.houses - lag(d.houses, 1, 0) over w as houses, d.rental_houses - lag(d.rental_houses, 1, 0) over w as rental_houses,
             d.group_rentals - lag(d.group_rentals, 1, 0) over w as group_rentals,
             d.group_rentals_with_hazards - lag(d.group_rentals_with_hazards, 1, 0) over w as group_rentals_with_hazards,
             d.residents_registered - lag(d.residents_registered, 1, 0) over w as residents_registered,
             d.hz_public_security - lag(d.hz_public_security, 1, 0) over w as hz_public_security, d.hz_fire - lag(d.hz_fire, 1, 0) over w as hz_fire,
             d.hz_housing - lag(d.hz_housing, 1, 0) over w as hz_housing, d.hz_other - lag(d.hz_other, 1, 0) over w as hz_other
      from premises_cell_day d
      where d.cx = b.block_x * 4 + i and d.cy = b.block_y * 4 + j
      window w as (partition by d.town_id, d.police_station_id order by d.day)
    ) d
  )
  select block_x, block_y, town_id, police_station_id, day,
         (sum(houses) over w)::int, (sum(rental_houses) over w)::int, (sum(group_rentals) over w)::int, (sum(group_rentals_with_hazards) over w)::int,
         (sum(residents_registered) over w)::int, (sum(hz_public_security) over w)::int, (sum(hz_fire) over w)::int, (sum(hz_housing) over w)::int,
         (sum(hz_other) over w)::int
  from (
    select block_x, block_y, town_id, police_station_id, day, sum(houses) as houses, sum(rental_houses) as rental_houses,
           sum(group_rentals) as group_rentals, sum(group_rentals_with_hazards) as group_rentals_with_hazards,
           sum(residents_registered) as residents_registered, sum(hz_public_security) as hz_public_security, sum(hz_fire) as hz_fire,
           sum(hz_housing) as hz_housing, sum(hz_other) as hz_other
    from c group by 1, 2, 3, 4, 5
    having (sum(houses), sum(rental_houses), sum(group_rentals), sum(group_rentals_with_hazards), sum(residents_registered),
            sum(hz_public_security), sum(hz_fire), sum(hz_housing), sum(hz_other)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
  ) x
  window w as (partition by block_x, block_y, town_id, police_station_id order by day)
$$;

-- The blocks of the given premises, as premises_cell_day_source has them and where they are now.
create or replace function premises_blocks_of(ids bigint[]) returns int[][] language sql stable as $$
  select coalesce(array_agg(array[block_x, block_y]), '{}') from (
    select s.cx / 4 as block_x, s.cy / 4 as block_y from premises_cell_day_source s where s.premises_id in (select unnest(ids))
    union
    select premises_cell_x(st_x(p.geom_m)) / 4, premises_cell_y(st_y(p.geom_m)) / 4 from premises p where p.id in (select unnest(ids))
  ) b
$$;

-- The given blocks' totals again from their cells'. Written over in place and the rows no longer
-- there taken away, not deleted and inserted: a concurrent writer of the same block then waits for
-- the row instead of failing on its key.
create or replace function refresh_premises_block_days(blocks int[][]) returns void language sql
set enable_hashjoin = off set enable_mergejoin = off set jit = off as $$
  with fresh as (select * from premises_block_day_rows(blocks)),
  gone as (
    -- NOT IN, a hashed subplan: NOT EXISTS became a nested loop over the CTE (hash joins are off
    -- here), comparing each of a block's rows with every fresh one, a third of a write's time at
    -- 1,000,000 premises. No column of the key is ever null.
    delete from premises_block_day d
    using generate_subscripts(blocks, 1) i
    where d.block_x = blocks[i][1] and d.block_y = blocks[i][2]
      and (d.block_x, d.block_y, d.town_id, d.police_station_id, d.day)
          not in (select f.block_x, f.block_y, f.town_id, f.police_station_id, f.day from fresh f)
  )
  insert into premises_block_day as b select * from fresh
  on conflict (block_x, block_y, town_id, police_station_id, day) do update set
    houses = excluded.houses, rental_houses = excluded.rental_houses, group_rentals = excluded.group_rentals,
    group_rentals_with_hazards = excluded.group_rentals_with_hazards, residents_registered = excluded.residents_registered,
    hz_public_security = excluded.hz_public_security, hz_fire = excluded.hz_fire, hz_housing = excluded.hz_housing, hz_other = excluded.hz_other;
$$;

-- Every block's totals (the seed; a database whose cells were filled before migration 041), in one
-- pass over the premises' changes as the cells' totals are made: a block's change on a day is the sum
-- of its premises' (its cells' changes are), so the rows equal premises_block_day_rows' for every
-- block, at half the time of reading the cells' totals back block by block.
create or replace function refresh_all_premises_block_days() returns void language sql
set jit = off set enable_memoize = off set enable_hashagg = off set enable_seqscan = off as $$
  delete from premises_block_day;
  insert into premises_block_day
  select block_x, block_y, town_id, police_station_id, day,
         sum(houses) over w, sum(rental_houses) over w, sum(group_rentals) over w, sum(group_rentals_with_hazards) over w,
         sum(residents_registered) over w, sum(hz_public_security) over w, sum(hz_fire) over w, sum(hz_housing) over w, sum(hz_other) over w
  from (
    select s.cx / 4 as block_x, s.cy / 4 as block_y, s.town_id, s.police_station_id, d.day, sum(d.houses) as houses,
           sum(d.rental_houses) as rental_houses, sum(d.group_rentals) as group_rentals,
           sum(d.group_rentals_with_hazards) as group_rentals_with_hazards, sum(d.residents_registered) as residents_registered,
           sum(d.hz_public_security) as hz_public_security, sum(d.hz_fire) as hz_fire, sum(d.hz_housing) as hz_housing, sum(d.hz_other) as hz_other
    from premises_cell_day_source s cross join unnest(s.deltas) d
    group by 1, 2, 3, 4, 5
    having (sum(d.houses), sum(d.rental_houses), sum(d.group_rentals), sum(d.group_rentals_with_hazards), sum(d.residents_registered),
            sum(d.hz_public_security), sum(d.hz_fire), sum(d.hz_housing), sum(d.hz_other)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
  ) x
  window w as (partition by block_x, block_y, town_id, police_station_id order by day);
$$;

-- The daily changes each of the given premises brings, from its rows as they are now.
create or replace function premises_cell_day_rows(ids bigint[])
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

-- The events each of the given premises brings (attachment 4's columns, migration 040), from its rows
-- as they are now: the same rules as reportCounts over the rows (server/plugins/app/reports-counts.ts).
-- A premises without events still has its row, so that an empty source beside premises means a
-- database filled before migration 040.
create or replace function premises_cell_event_rows(ids bigint[])
returns table (premises_id bigint, cx int, cy int, town_id int, police_station_id int, days date[], events report_event[])
language sql stable as $$
  with p as materialized (
    select p.id, premises_cell_x(st_x(p.geom_m)) as cx, premises_cell_y(st_y(p.geom_m)) as cy, p.town_id,
           coalesce(p.police_station_id, 0) as ps, p.kind, p.registered_on, p.deregistered_on, p.group_rental_since,
           p.statement_signed_on, p.second_landlord_collected_on, is_group_rental_candidate(p.kind, p.meets_rule) as gr
    from premises p where p.id in (select unnest(ids))
  ),
  e as (
    select p.id, v.day, v.event
    from p cross join lateral (values
      (group_rental_registered_on(p.kind, p.registered_on, p.group_rental_since), 'grRegistered'::report_event),
      (case when p.kind = 'group_rental' and p.registered_on is not null then p.deregistered_on end, 'grDeregistered'),
      (case when p.gr then p.statement_signed_on end, 'statementsSigned'),
      (case when p.gr then p.second_landlord_collected_on end, 'secondLandlords')
    ) as v(day, event)
    where v.day is not null
    union all
    -- Residents of group rentals (recorded as one, or a let dwelling meeting the rule) and floating
    -- residents, by their own registration dates.
    select p.id, v.day, v.event
    from p join resident r on r.premises_id = p.id
    cross join lateral (values
      (case when p.gr then r.registered_on end, 'grResidentsRegistered'::report_event),
      (case when p.gr then r.deregistered_on end, 'grResidentsDeregistered'),
      (case when r.floating then r.registered_on end, 'floatingRegistered'),
      (case when r.floating then r.deregistered_on end, 'floatingDeregistered')
    ) as v(day, event)
    where v.day is not null
    union all
    -- Hazards by the local day found and rectified: in a group rental when found once it was one.
    select h.id, v.day, ((case when h.gr then 'gr:' else 'all:' end) || v.what || ':' || h.category_code)::report_event
    from (
      select p.id, i.category_code, (h.found_at at time zone 'Asia/Shanghai')::date as found_on,
             (h.rectified_at at time zone 'Asia/Shanghai')::date as rectified_on,
             p.gr and (p.group_rental_since is null or (h.found_at at time zone 'Asia/Shanghai')::date >= p.group_rental_since) as gr
      from p join hazard h on h.premises_id = p.id join hazard_item i on i.code = h.item_code
    ) h
    cross join lateral (values ('found', h.found_on), ('rectified', h.rectified_on)) as v(what, day)
    where v.day is not null
  )
  select p.id, p.cx, p.cy, p.town_id, p.ps,
         coalesce(array_agg(e.day order by e.day, e.event) filter (where e.day is not null), '{}'),
         coalesce(array_agg(e.event order by e.day, e.event) filter (where e.day is not null), '{}')
  from p left join e on e.id = p.id
  group by p.id, p.cx, p.cy, p.town_id, p.ps
$$;

-- The given premises' events again from their rows: what they held taken off their cells, what they
-- hold now added (a cell whose events all cancel keeps a row of empty arrays).
create or replace function refresh_premises_cell_events(ids bigint[]) returns void language sql as $$
  with change as (
    select s.cx, s.cy, s.town_id, s.police_station_id, e.day, e.event, sum(s.sign)::int as n
    from (
      select o.cx, o.cy, o.town_id, o.police_station_id, o.days, o.events, -1 as sign
      from premises_cell_event_source o where o.premises_id in (select unnest(ids))
      union all
      select n.cx, n.cy, n.town_id, n.police_station_id, n.days, n.events, 1 from premises_cell_event_rows(ids) n
    ) s cross join unnest(s.days, s.events) as e(day, event)
    group by 1, 2, 3, 4, 5, 6
    having sum(s.sign) <> 0
  ),
  touched as (select distinct cx, cy, town_id, police_station_id from change),
  merged as (
    select t.cx, t.cy, t.town_id, t.police_station_id, m.days, m.events, m.counts
    from touched t cross join lateral (
      select coalesce(array_agg(x.day order by x.day, x.event), '{}') as days, coalesce(array_agg(x.event order by x.day, x.event), '{}') as events,
             coalesce(array_agg(x.n order by x.day, x.event), '{}') as counts
      from (
        select a.day, a.event, sum(a.n)::int as n from (
          select u.day, u.event, u.n
          from premises_cell_event c cross join unnest(c.days, c.events, c.counts) as u(day, event, n)
          where (c.cx, c.cy, c.town_id, c.police_station_id) = (t.cx, t.cy, t.town_id, t.police_station_id)
          union all
          select ch.day, ch.event, ch.n from change ch
          where (ch.cx, ch.cy, ch.town_id, ch.police_station_id) = (t.cx, t.cy, t.town_id, t.police_station_id)
        ) a group by 1, 2 having sum(a.n) <> 0
      ) x
    ) m
  )
  insert into premises_cell_event as c select * from merged
  on conflict (cx, cy, town_id, police_station_id) do update set days = excluded.days, events = excluded.events, counts = excluded.counts;
  delete from premises_cell_event_source where premises_id in (select unnest(ids));
  insert into premises_cell_event_source select * from premises_cell_event_rows(ids);
$$;

-- The cells' events summed from every premises' in premises_cell_event_source (the full refresh; the
-- seed's COPY load sums them in Node the same way, server/seed/key-area-source.ts). Here and in the
-- sums of the changes below, without JIT and without Memoize: at 1,000,000 premises the planner put
-- a Memoize keyed by each premises' whole array in front of its unnest (900,000 misses of 1,000,000,
-- a gigabyte of cache), and compiling took seconds; the two statements 189 -> 103 s, measured.
-- And without hashing or a whole-table scan: read in cell order through the sources' cell indexes
-- (migration 047), each cell's rows are sorted alone and grouped as they stream past, where hashing
-- all of them spilled to disk and the running totals sorted them all again (at 1,000,000 premises
-- the three full sums 103 -> 70 s).
create or replace function premises_cell_events_from_source() returns void language sql
set jit = off set enable_memoize = off set enable_hashagg = off set enable_seqscan = off as $$
  delete from premises_cell_event;
  insert into premises_cell_event
  select cx, cy, town_id, police_station_id, array_agg(day order by day, event), array_agg(event order by day, event), array_agg(n order by day, event)
  from (
    select s.cx, s.cy, s.town_id, s.police_station_id, e.day, e.event, count(*)::int as n
    from premises_cell_event_source s cross join unnest(s.days, s.events) as e(day, event)
    group by 1, 2, 3, 4, 5, 6
  ) x
  group by 1, 2, 3, 4;
$$;

-- Every premises' events from scratch (the seed, after its load; a database filled before migration 040).
create or replace function refresh_all_premises_cell_events() returns void language sql as $$
  delete from premises_cell_event_source;
  -- Laid out by cell (as refresh_all_premises_cell_days lays out the changes).
  insert into premises_cell_event_source select * from premises_cell_event_rows(array(select id from premises)) order by cx, cy, premises_id;
  select premises_cell_events_from_source();
$$;

-- The given premises' changes again from their rows (a premises gone takes its changes with it):
-- the difference to what they held, added to the totals of every day from its first change on.
-- A day whose total no longer changes anything stays (reading takes the last row at or before a day).
--
-- Totals are read, added to and written back: two transactions doing that to the same cell at once
-- would each add its change to the total it read, and the later write would lose the earlier one's.
-- So writers of the same block of cells (and their blocks' and events' rows) queue on a lock per
-- block, taken first and in one order (no deadlock between two refreshes), held to the commit; each
-- later statement of this function takes a fresh snapshot, so it reads the totals as the writer
-- before it committed them.
create or replace function refresh_premises_cell_days(ids bigint[]) returns void language sql as $$
  select count(pg_advisory_xact_lock(16041, k)) from (
    select distinct hashint8((b.blocks[i][1]::bigint << 20) | b.blocks[i][2]) as k
    from (select premises_blocks_of(ids) as blocks) b cross join generate_subscripts(b.blocks, 1) i
    order by 1
  ) l;
  with change as (
    select s.cx, s.cy, s.town_id, s.police_station_id, d.day,
           sum(s.sign * d.houses) as houses, sum(s.sign * d.rental_houses) as rental_houses,
           sum(s.sign * d.group_rentals) as group_rentals, sum(s.sign * d.group_rentals_with_hazards) as group_rentals_with_hazards,
           sum(s.sign * d.residents_registered) as residents_registered, sum(s.sign * d.hz_public_security) as hz_public_security,
           sum(s.sign * d.hz_fire) as hz_fire, sum(s.sign * d.hz_housing) as hz_housing, sum(s.sign * d.hz_other) as hz_other
    from (
      select o.cx, o.cy, o.town_id, o.police_station_id, o.deltas, -1 as sign from premises_cell_day_source o where o.premises_id in (select unnest(ids))
      union all
      select n.cx, n.cy, n.town_id, n.police_station_id, n.deltas, 1 from premises_cell_day_rows(ids) n
    ) s cross join unnest(s.deltas) d
    group by 1, 2, 3, 4, 5
    having (sum(s.sign * d.houses), sum(s.sign * d.rental_houses), sum(s.sign * d.group_rentals), sum(s.sign * d.group_rentals_with_hazards),
            sum(s.sign * d.residents_registered), sum(s.sign * d.hz_public_security), sum(s.sign * d.hz_fire), sum(s.sign * d.hz_housing),
            sum(s.sign * d.hz_other)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
  ),
  first_change as (select cx, cy, town_id, police_station_id, min(day) as day from change group by 1, 2, 3, 4),
  touched as (
    select c.cx, c.cy, c.town_id, c.police_station_id, c.day
    from first_change f join premises_cell_day c
      on (c.cx, c.cy, c.town_id, c.police_station_id) = (f.cx, f.cy, f.town_id, f.police_station_id) and c.day >= f.day
    union
    select cx, cy, town_id, police_station_id, day from change
  )
  insert into premises_cell_day as c
  select t.cx, t.cy, t.town_id, t.police_station_id, t.day,
         coalesce(b.houses, 0) + a.houses, coalesce(b.rental_houses, 0) + a.rental_houses, coalesce(b.group_rentals, 0) + a.group_rentals,
         coalesce(b.group_rentals_with_hazards, 0) + a.group_rentals_with_hazards, coalesce(b.residents_registered, 0) + a.residents_registered,
         coalesce(b.hz_public_security, 0) + a.hz_public_security, coalesce(b.hz_fire, 0) + a.hz_fire,
         coalesce(b.hz_housing, 0) + a.hz_housing, coalesce(b.hz_other, 0) + a.hz_other
  from touched t
  cross join lateral (
    select sum(ch.houses) as houses, sum(ch.rental_houses) as rental_houses, sum(ch.group_rentals) as group_rentals,
           sum(ch.group_rentals_with_hazards) as group_rentals_with_hazards, sum(ch.residents_registered) as residents_registered,
           sum(ch.hz_public_security) as hz_public_security, sum(ch.hz_fire) as hz_fire, sum(ch.hz_housing) as hz_housing, sum(ch.hz_other) as hz_other
    from change ch
    where (ch.cx, ch.cy, ch.town_id, ch.police_station_id) = (t.cx, t.cy, t.town_id, t.police_station_id) and ch.day <= t.day
  ) a
  left join lateral (
    select * from premises_cell_day b
    where (b.cx, b.cy, b.town_id, b.police_station_id) = (t.cx, t.cy, t.town_id, t.police_station_id) and b.day <= t.day
    order by b.day desc limit 1
  ) b on true
  where a.houses is not null
  on conflict (cx, cy, town_id, police_station_id, day) do update set
    houses = excluded.houses, rental_houses = excluded.rental_houses, group_rentals = excluded.group_rentals,
    group_rentals_with_hazards = excluded.group_rentals_with_hazards, residents_registered = excluded.residents_registered,
    hz_public_security = excluded.hz_public_security, hz_fire = excluded.hz_fire, hz_housing = excluded.hz_housing, hz_other = excluded.hz_other;
  select refresh_premises_block_days(premises_blocks_of(ids));
  delete from premises_cell_day_source where premises_id in (select unnest(ids));
  insert into premises_cell_day_source (premises_id, cx, cy, town_id, police_station_id, deltas, total, geom)
  select r.*, cell_day_total(r.deltas), p.geom from premises_cell_day_rows(ids) r join premises p on p.id = r.premises_id;
  select refresh_premises_cell_events(ids);
$$;

-- The cells' and blocks' running totals summed from every premises' changes in
-- premises_cell_day_source (the full refresh; the seed's COPY load sums them in Node the same way).
create or replace function premises_cell_days_from_source() returns void language sql
set jit = off set enable_memoize = off set enable_hashagg = off set enable_seqscan = off as $$
  delete from premises_cell_day;
  insert into premises_cell_day
  select cx, cy, town_id, police_station_id, day,
         sum(houses) over w, sum(rental_houses) over w, sum(group_rentals) over w, sum(group_rentals_with_hazards) over w,
         sum(residents_registered) over w, sum(hz_public_security) over w, sum(hz_fire) over w, sum(hz_housing) over w, sum(hz_other) over w
  from (
    select s.cx, s.cy, s.town_id, s.police_station_id, d.day, sum(d.houses) as houses, sum(d.rental_houses) as rental_houses,
           sum(d.group_rentals) as group_rentals, sum(d.group_rentals_with_hazards) as group_rentals_with_hazards,
           sum(d.residents_registered) as residents_registered, sum(d.hz_public_security) as hz_public_security,
           sum(d.hz_fire) as hz_fire, sum(d.hz_housing) as hz_housing, sum(d.hz_other) as hz_other
    from premises_cell_day_source s cross join unnest(s.deltas) d
    group by 1, 2, 3, 4, 5
    having (sum(d.houses), sum(d.rental_houses), sum(d.group_rentals), sum(d.group_rentals_with_hazards), sum(d.residents_registered),
            sum(d.hz_public_security), sum(d.hz_fire), sum(d.hz_housing), sum(d.hz_other)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
  ) x
  window w as (partition by cx, cy, town_id, police_station_id order by day);
  select refresh_all_premises_block_days();
$$;

-- Every premises' changes from scratch (the seed, after its load).
create or replace function refresh_all_premises_cell_days() returns void language sql as $$
  delete from premises_cell_day_source;
  -- Laid out by cell: the premises along a boundary are read cell by cell (countsInside's edge), and
  -- in id order each was a page of its own, 393 pages for a cell of 396 premises at 1,000,000 (the
  -- live preview of a square kilometre p50 45 -> 30 ms). The sort costs about 6 s there.
  insert into premises_cell_day_source (premises_id, cx, cy, town_id, police_station_id, deltas, total, geom)
  select r.*, cell_day_total(r.deltas), p.geom from premises_cell_day_rows(array(select id from premises)) r join premises p on p.id = r.premises_id
  order by r.cx, r.cy, r.premises_id;
  select premises_cell_days_from_source();
  select refresh_all_premises_cell_events();
$$;

-- A database that had premises before migration 036 gets its key-area cells here, once: the
-- functions above did not exist yet when the migration created the tables. Every later write keeps
-- a premises' row in premises_cell_day_source, so an empty source beside premises means exactly that.
select refresh_all_premises_cell_days()
where not exists (select 1 from premises_cell_day_source) and exists (select 1 from premises);

-- The same for the blocks (migration 041) and the events (migration 040), for a database whose
-- key-area cells were filled before.
select refresh_all_premises_block_days()
where not exists (select 1 from premises_block_day) and exists (select 1 from premises_cell_day);

select refresh_all_premises_cell_events()
where not exists (select 1 from premises_cell_event_source) and exists (select 1 from premises);
