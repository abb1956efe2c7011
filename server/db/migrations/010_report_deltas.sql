-- Attachment 5's resident columns as daily changes too. The table counts registrations and
-- deregistrations on the day they happen, for every police station, from all residents of the
-- district: at a million premises (7.9 M residents) a pass over the raw rows took seconds per
-- table. These are event counts (+1 on the day, never -1 later), kept beside the interval counts
-- of 007 in the same rows, by the same triggers (a premises changing kind or rule re-applies its
-- residents, so "in a group rental" follows it). The definitions are those of reportCounts in
-- server/plugins/app/measures.ts, which still counts a key area's residents from the raw rows;
-- the tests hold the two equal.
--
--   ev_gr_res_registered     a resident of a group rental (or rental meeting the rule) registered that day
--   ev_gr_res_deregistered   ... deregistered that day
--   ev_floating_registered   a floating resident (any premises) registered that day
--   ev_floating_deregistered ... deregistered that day

alter table measure_delta
  add column ev_gr_res_registered int not null default 0,
  add column ev_gr_res_deregistered int not null default 0,
  add column ev_floating_registered int not null default 0,
  add column ev_floating_deregistered int not null default 0;

drop function resident_delta_rows(premises, resident);

-- The changes one resident brings, given the premises as it is (or was).
create function resident_delta_rows(p premises, r resident)
returns table (day date, res_counted int, res_registered int, ev_gr_reg int, ev_gr_dereg int, ev_fl_reg int, ev_fl_dereg int)
language sql stable as $$
  with span as (
    select greatest(r.moved_in_on, p.found_on) as s,
           least(r.moved_out_on, p.deregistered_on) as e,
           greatest(r.moved_in_on, p.found_on, r.registered_on) as rs
    where is_group_rental_candidate(p.kind, p.meets_rule)
  ),
  flags as (select is_group_rental_candidate(p.kind, p.meets_rule) as gr, r.floating as fl)
  select d, sum(c)::int, sum(g)::int, sum(gra)::int, sum(grd)::int, sum(fla)::int, sum(fld)::int from (
    select s as d, 1 as c, 0 as g, 0 as gra, 0 as grd, 0 as fla, 0 as fld from span where e is null or e > s
    union all select e, -1, 0, 0, 0, 0, 0 from span where e is not null and e > s
    union all select rs, 0, 1, 0, 0, 0, 0 from span where r.registered_on is not null and (e is null or e > rs)
    union all select e, 0, -1, 0, 0, 0, 0 from span where r.registered_on is not null and e is not null and e > rs
    union all select r.registered_on, 0, 0, gr::int, 0, fl::int, 0 from flags where r.registered_on is not null and (gr or fl)
    union all select r.deregistered_on, 0, 0, 0, gr::int, 0, fl::int from flags where r.deregistered_on is not null and (gr or fl)
  ) x group by d
$$;

create or replace function measure_apply_resident(p premises, r resident, sign int) returns void language sql as $$
  insert into measure_delta as m (day, town_id, police_station_id, kind, res_counted, res_registered,
                                   ev_gr_res_registered, ev_gr_res_deregistered, ev_floating_registered, ev_floating_deregistered)
  select day, p.town_id, coalesce(p.police_station_id, 0), p.kind, sign * res_counted, sign * res_registered,
         sign * ev_gr_reg, sign * ev_gr_dereg, sign * ev_fl_reg, sign * ev_fl_dereg
  from resident_delta_rows(p, r)
  on conflict (day, town_id, police_station_id, kind) do update
    set res_counted = m.res_counted + excluded.res_counted, res_registered = m.res_registered + excluded.res_registered,
        ev_gr_res_registered = m.ev_gr_res_registered + excluded.ev_gr_res_registered,
        ev_gr_res_deregistered = m.ev_gr_res_deregistered + excluded.ev_gr_res_deregistered,
        ev_floating_registered = m.ev_floating_registered + excluded.ev_floating_registered,
        ev_floating_deregistered = m.ev_floating_deregistered + excluded.ev_floating_deregistered;
$$;

-- Set-wise, for bulk loaders: 007's rebuild, plus the resident events.
create or replace function refresh_measure_deltas() returns void language sql as $$
  delete from measure_delta;
  delete from hazard_delta;
  insert into measure_delta (day, town_id, police_station_id, kind, gr_found, gr_registered, res_counted, res_registered,
                             ev_gr_res_registered, ev_gr_res_deregistered, ev_floating_registered, ev_floating_deregistered)
  with p as (
    select id, town_id, coalesce(police_station_id, 0) as ps, kind, meets_rule, found_on, registered_on, deregistered_on,
           is_group_rental_candidate(kind, meets_rule) as candidate
    from premises
  ),
  span as (
    select p.town_id, p.ps, p.kind,
           greatest(r.moved_in_on, p.found_on) as s,
           least(r.moved_out_on, p.deregistered_on) as e,
           case when r.registered_on is not null then greatest(r.moved_in_on, p.found_on, r.registered_on) end as rs
    from p join resident r on r.premises_id = p.id
    where p.candidate
  ),
  events as (
    select p.town_id, p.ps, p.kind, p.candidate as gr, r.floating as fl, r.registered_on, r.deregistered_on
    from p join resident r on r.premises_id = p.id
    where (p.candidate or r.floating) and (r.registered_on is not null or r.deregistered_on is not null)
  )
  select day, town_id, ps, kind, sum(gf), sum(gr), sum(rc), sum(rr), sum(gra), sum(grd), sum(fla), sum(fld) from (
    select found_on as day, town_id, ps, kind, 1 as gf, 0 as gr, 0 as rc, 0 as rr, 0 as gra, 0 as grd, 0 as fla, 0 as fld from p where candidate
    union all select deregistered_on, town_id, ps, kind, -1, 0, 0, 0, 0, 0, 0, 0 from p where candidate and deregistered_on is not null
    union all select registered_on, town_id, ps, kind, 0, 1, 0, 0, 0, 0, 0, 0 from p where kind = 'group_rental' and registered_on is not null
    union all select deregistered_on, town_id, ps, kind, 0, -1, 0, 0, 0, 0, 0, 0 from p where kind = 'group_rental' and registered_on is not null and deregistered_on is not null
    union all select s, town_id, ps, kind, 0, 0, 1, 0, 0, 0, 0, 0 from span where e is null or e > s
    union all select e, town_id, ps, kind, 0, 0, -1, 0, 0, 0, 0, 0 from span where e is not null and e > s
    union all select rs, town_id, ps, kind, 0, 0, 0, 1, 0, 0, 0, 0 from span where rs is not null and (e is null or e > rs)
    union all select e, town_id, ps, kind, 0, 0, 0, -1, 0, 0, 0, 0 from span where rs is not null and e is not null and e > rs
    union all select registered_on, town_id, ps, kind, 0, 0, 0, 0, gr::int, 0, fl::int, 0 from events where registered_on is not null
    union all select deregistered_on, town_id, ps, kind, 0, 0, 0, 0, 0, gr::int, 0, fl::int from events where deregistered_on is not null
  ) x group by day, town_id, ps, kind;

  insert into hazard_delta (day, town_id, police_station_id, kind, category_code, department_code, found, rectified, major_found, major_rectified, overdue)
  with t as (
    select p.town_id, coalesce(p.police_station_id, 0) as ps, p.kind, i.category_code as c, h.department_code as dep,
           (h.found_at at time zone 'Asia/Shanghai')::date as f,
           (h.rectified_at at time zone 'Asia/Shanghai')::date as r,
           greatest(h.deadline + 1, (h.found_at at time zone 'Asia/Shanghai')::date) as o,
           h.deadline is not null as has_deadline,
           (h.severity = 'major')::int as m
    from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
  )
  select day, town_id, ps, kind, c, dep, sum(fo), sum(re), sum(mf), sum(mr), sum(ov) from (
    select f as day, town_id, ps, kind, c, dep, 1 as fo, 0 as re, m as mf, 0 as mr, 0 as ov from t
    union all select r, town_id, ps, kind, c, dep, 0, 1, 0, m, 0 from t where r is not null
    union all select o, town_id, ps, kind, c, dep, 0, 0, 0, 0, 1 from t where has_deadline and (r is null or r > o)
    union all select r, town_id, ps, kind, c, dep, 0, 0, 0, 0, -1 from t where has_deadline and r is not null and r > o
  ) x group by 1, 2, 3, 4, 5, 6;
$$;

select refresh_measure_deltas();
