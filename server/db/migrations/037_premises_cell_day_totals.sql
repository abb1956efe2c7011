-- The key-area cells (migration 036) hold, per cell, town and police station, the running total on
-- each day a figure changed, not the change itself: "on day D" is then the one row of each group at
-- or before D instead of a sum over every earlier day (133 rows a cell at a million premises, 2.7 s
-- cold for a 4 km² square). premises_cell_day_source still holds each premises' own changes.

update premises_cell_day c set
  houses = s.houses, rental_houses = s.rental_houses, group_rentals = s.group_rentals,
  group_rentals_with_hazards = s.group_rentals_with_hazards, residents_registered = s.residents_registered,
  hz_public_security = s.hz_public_security, hz_fire = s.hz_fire, hz_housing = s.hz_housing, hz_other = s.hz_other
from (
  select cx, cy, town_id, police_station_id, day,
         sum(houses) over w as houses, sum(rental_houses) over w as rental_houses, sum(group_rentals) over w as group_rentals,
         sum(group_rentals_with_hazards) over w as group_rentals_with_hazards, sum(residents_registered) over w as residents_registered,
         sum(hz_public_security) over w as hz_public_security, sum(hz_fire) over w as hz_fire,
         sum(hz_housing) over w as hz_housing, sum(hz_other) over w as hz_other
  from premises_cell_day
  window w as (partition by cx, cy, town_id, police_station_id order by day)
) s
where (c.cx, c.cy, c.town_id, c.police_station_id, c.day) = (s.cx, s.cy, s.town_id, s.police_station_id, s.day);

drop function refresh_premises_cell_days(bigint[]);
drop function premises_cell_day_prune(bigint[]);
drop function premises_cell_day_apply(bigint[], int);

-- The given premises' changes again from their rows (a premises gone takes its changes with it):
-- the difference to what they held, added to the totals of every day from its first change on.
-- A day whose total no longer changes anything stays (reading takes the last row at or before a day).
create function refresh_premises_cell_days(ids bigint[]) returns void language sql as $$
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
  delete from premises_cell_day_source where premises_id in (select unnest(ids));
  insert into premises_cell_day_source select * from premises_cell_day_rows(ids);
$$;

-- Every premises' changes from scratch (the seed, after its load).
create or replace function refresh_all_premises_cell_days() returns void language sql as $$
  delete from premises_cell_day;
  delete from premises_cell_day_source;
  insert into premises_cell_day_source select * from premises_cell_day_rows(array(select id from premises));
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
$$;
