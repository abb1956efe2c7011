-- The campaign's measures as daily changes (tables measure_delta and hazard_delta, migrations 007,
-- 010 and 011; group_rental_hazard_delta, migration 034), so that "as it stood on day D" is a sum over days <= D instead of a pass over
-- millions of residents and hazards. The definitions are those of server/plugins/app/measures.ts
-- and, for the event counts of the biweekly tables, of reportCounts in
-- server/plugins/app/reports-counts.ts, which also count from the raw rows; the tests hold them equal.
--
-- Interval counts: +1 on the day something starts to count, -1 on the day it stops.
--   group rental found        kind group_rental, or rental meeting the rule: from found_on until deregistered_on
--   group rental registered   kind group_rental with registered_on: from group_rental_registered_on until deregistered_on
--   resident counted          in a found group rental and living there: from the later of moved in / found,
--                             until the earlier of moved out / deregistered
--   resident registered       the same, from the later of that and registered_on
--   hazard found / rectified  on the local (UTC+8) day of found_at / rectified_at
--   hazard overdue            open and past its deadline: from the day after the deadline (or the day found,
--                             if later) until the day rectified
-- Event counts (+1 on the day, never -1 later), for attachment 5:
--   ev_gr_res_registered     a resident of a group rental (or rental meeting the rule) registered that day
--   ev_gr_res_deregistered   ... deregistered that day
--   ev_floating_registered   a floating resident (any premises) registered that day
--   ev_floating_deregistered ... deregistered that day
--   ev_gr_registered         premises recorded as a group rental, on group_rental_registered_on
--   ev_gr_deregistered       ... with registered_on, on deregistered_on
--   ev_statements_signed     found group rentals (recorded, or a rental meeting the rule), on statement_signed_on
--   ev_second_landlords      ... on second_landlord_collected_on

create or replace function is_group_rental_candidate(kind text, meets_rule boolean) returns boolean
language sql immutable parallel safe as $$ select kind = 'group_rental' or (kind = 'rental' and meets_rule) $$;

-- The day a group rental's registration counts: the later of its registration and the day it
-- became a group rental (premises.group_rental_since, migration 025). Null when it is not a
-- registered group rental.
create or replace function group_rental_registered_on(kind text, registered_on date, since date) returns date
language sql immutable parallel safe as $$
  select case when kind = 'group_rental' and registered_on is not null then greatest(registered_on, coalesce(since, registered_on)) end
$$;

-- The changes one premises itself brings, the registration on group_rental_registered_on.
create or replace function premises_delta_rows(p premises)
returns table (day date, gr_found int, gr_registered int, ev_reg int, ev_dereg int, ev_statement int, ev_second int)
language sql stable as $$
  with g as (select group_rental_registered_on(p.kind, p.registered_on, p.group_rental_since) as reg)
  select d, sum(f)::int, sum(r)::int, sum(a)::int, sum(b)::int, sum(s)::int, sum(l)::int from (
    select p.found_on as d, 1 as f, 0 as r, 0 as a, 0 as b, 0 as s, 0 as l where is_group_rental_candidate(p.kind, p.meets_rule)
    union all select p.deregistered_on, -1, 0, 0, 0, 0, 0 where is_group_rental_candidate(p.kind, p.meets_rule) and p.deregistered_on is not null
    -- Registered from reg until deregistered: nothing when it was deregistered before it became a group rental.
    union all select g.reg, 0, (p.deregistered_on is null or g.reg < p.deregistered_on)::int, 1, 0, 0, 0 from g where g.reg is not null
    union all select p.deregistered_on, 0, -(g.reg < p.deregistered_on)::int, 0, 1, 0, 0 from g where g.reg is not null and p.deregistered_on is not null
    union all select p.statement_signed_on, 0, 0, 0, 0, 1, 0 where is_group_rental_candidate(p.kind, p.meets_rule) and p.statement_signed_on is not null
    union all select p.second_landlord_collected_on, 0, 0, 0, 0, 0, 1 where is_group_rental_candidate(p.kind, p.meets_rule) and p.second_landlord_collected_on is not null
  ) x group by d
$$;

-- The changes one resident brings, given the premises as it is (or was).
create or replace function resident_delta_rows(p premises, r resident)
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

-- The changes one hazard brings.
create or replace function hazard_delta_rows(h hazard)
returns table (day date, category_code text, found int, rectified int, major_found int, major_rectified int, overdue int)
language sql stable as $$
  with t as (
    select local_day(h.found_at) as f,
           local_day(h.rectified_at) as r,
           greatest(h.deadline + 1, local_day(h.found_at)) as o,
           (select category_code from hazard_item where code = h.item_code) as c,
           (h.severity = 'major')::int as m
  )
  select d, c, sum(fo)::int, sum(re)::int, sum(mf)::int, sum(mr)::int, sum(ov)::int from (
    select f as d, c, 1 as fo, 0 as re, m as mf, 0 as mr, 0 as ov from t
    union all select r, c, 0, 1, 0, m, 0 from t where r is not null
    union all select o, c, 0, 0, 0, 0, 1 from t where h.deadline is not null and (r is null or r > o)
    union all select r, c, 0, 0, 0, 0, -1 from t where h.deadline is not null and r is not null and r > o
  ) x group by d, c
$$;

create or replace function measure_apply_premises(p premises, sign int) returns void language sql as $$
  insert into measure_delta as m (day, town_id, police_station_id, kind, gr_found, gr_registered,
                                   ev_gr_registered, ev_gr_deregistered, ev_statements_signed, ev_second_landlords)
  select day, p.town_id, coalesce(p.police_station_id, 0), p.kind, sign * gr_found, sign * gr_registered,
         sign * ev_reg, sign * ev_dereg, sign * ev_statement, sign * ev_second
  from premises_delta_rows(p)
  on conflict (day, town_id, police_station_id, kind) do update
    set gr_found = m.gr_found + excluded.gr_found, gr_registered = m.gr_registered + excluded.gr_registered,
        ev_gr_registered = m.ev_gr_registered + excluded.ev_gr_registered,
        ev_gr_deregistered = m.ev_gr_deregistered + excluded.ev_gr_deregistered,
        ev_statements_signed = m.ev_statements_signed + excluded.ev_statements_signed,
        ev_second_landlords = m.ev_second_landlords + excluded.ev_second_landlords;
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

create or replace function measure_apply_hazard(p premises, h hazard, sign int) returns void language sql as $$
  insert into hazard_delta as m (day, town_id, police_station_id, kind, category_code, department_code,
                                  found, rectified, major_found, major_rectified, overdue)
  select day, p.town_id, coalesce(p.police_station_id, 0), p.kind, category_code, h.department_code,
         sign * found, sign * rectified, sign * major_found, sign * major_rectified, sign * overdue
  from hazard_delta_rows(h)
  on conflict (day, town_id, police_station_id, kind, category_code, department_code) do update
    set found = m.found + excluded.found, rectified = m.rectified + excluded.rectified,
        major_found = m.major_found + excluded.major_found, major_rectified = m.major_rectified + excluded.major_rectified,
        overdue = m.overdue + excluded.overdue;
  -- A hazard of a group rental, found since it became one, counts in attachment 5 (migration 034).
  insert into group_rental_hazard_delta as m (day, town_id, police_station_id, category_code, found, rectified)
  select day, p.town_id, coalesce(p.police_station_id, 0), category_code, sign * found, sign * rectified
  from hazard_delta_rows(h)
  where is_group_rental_candidate(p.kind, p.meets_rule)
    and (p.group_rental_since is null or local_day(h.found_at) >= p.group_rental_since)
    and (found <> 0 or rectified <> 0)
  on conflict (day, town_id, police_station_id, category_code) do update
    set found = m.found + excluded.found, rectified = m.rectified + excluded.rectified;
$$;

-- Premises: its own changes; and when what its residents' and hazards' changes depend on moves
-- (town, station, kind, the rule, its dates), theirs too; also when a statement or second-landlord
-- date changes. A premises being deleted takes its residents and hazards out here, before the
-- cascade removes them.
create or replace function measure_premises_trg() returns trigger language plpgsql as $$
declare
  moved boolean;
  r resident;
  h hazard;
begin
  if tg_op = 'UPDATE' then
    moved := (new.town_id, new.police_station_id, new.kind, new.meets_rule, new.found_on, new.deregistered_on, new.group_rental_since)
             is distinct from (old.town_id, old.police_station_id, old.kind, old.meets_rule, old.found_on, old.deregistered_on, old.group_rental_since);
    if not moved and (new.registered_on, new.statement_signed_on, new.second_landlord_collected_on)
                     is not distinct from (old.registered_on, old.statement_signed_on, old.second_landlord_collected_on) then
      return null;
    end if;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    perform measure_apply_premises(old, -1);
    if tg_op = 'DELETE' or moved then
      for r in select * from resident where premises_id = old.id loop perform measure_apply_resident(old, r, -1); end loop;
      for h in select * from hazard where premises_id = old.id loop perform measure_apply_hazard(old, h, -1); end loop;
    end if;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    perform measure_apply_premises(new, 1);
    if tg_op = 'UPDATE' and moved then
      for r in select * from resident where premises_id = new.id loop perform measure_apply_resident(new, r, 1); end loop;
      for h in select * from hazard where premises_id = new.id loop perform measure_apply_hazard(new, h, 1); end loop;
    end if;
  end if;
  -- Fired before a delete, the row must be returned or the delete would not happen.
  if tg_op = 'DELETE' then
    return old;
  end if;
  return null;
end $$;
create or replace trigger measure_premises_insert_update after insert or update on premises
  for each row when (not bulk_load_active()) execute function measure_premises_trg();
create or replace trigger measure_premises_delete before delete on premises
  for each row when (not bulk_load_active()) execute function measure_premises_trg();

-- Residents and hazards: subtract the old row, add the new one (a premises already gone counts nothing).
create or replace function measure_resident_trg() returns trigger language plpgsql as $$
declare
  p premises;
begin
  if tg_op in ('UPDATE', 'DELETE') then
    select * into p from premises where id = old.premises_id;
    if found then perform measure_apply_resident(p, old, -1); end if;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    select * into p from premises where id = new.premises_id;
    if found then perform measure_apply_resident(p, new, 1); end if;
  end if;
  return null;
end $$;
create or replace trigger measure_resident_trg after insert or update or delete on resident
  for each row when (not bulk_load_active()) execute function measure_resident_trg();

create or replace function measure_hazard_trg() returns trigger language plpgsql as $$
declare
  p premises;
begin
  if tg_op in ('UPDATE', 'DELETE') then
    select * into p from premises where id = old.premises_id;
    if found then perform measure_apply_hazard(p, old, -1); end if;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    select * into p from premises where id = new.premises_id;
    if found then perform measure_apply_hazard(p, new, 1); end if;
  end if;
  return null;
end $$;
create or replace trigger measure_hazard_trg after insert or update or delete on hazard
  for each row when (not bulk_load_active()) execute function measure_hazard_trg();

-- A bulk write skips the row triggers and rebuilds both tables set-wise (the same rules as the row
-- functions above, written for millions of rows at once; the tests hold the two equal).
create or replace function refresh_measure_deltas() returns void language sql as $$
  delete from measure_delta;
  delete from hazard_delta;
  delete from group_rental_hazard_delta;
  insert into measure_delta (day, town_id, police_station_id, kind, gr_found, gr_registered, res_counted, res_registered,
                             ev_gr_res_registered, ev_gr_res_deregistered, ev_floating_registered, ev_floating_deregistered,
                             ev_gr_registered, ev_gr_deregistered, ev_statements_signed, ev_second_landlords)
  with p as (
    select id, town_id, coalesce(police_station_id, 0) as ps, kind, meets_rule, found_on, deregistered_on,
           group_rental_registered_on(kind, registered_on, group_rental_since) as reg,
           statement_signed_on, second_landlord_collected_on, is_group_rental_candidate(kind, meets_rule) as candidate
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
  select day, town_id, ps, kind, sum(gf), sum(gr), sum(rc), sum(rr), sum(gra), sum(grd), sum(fla), sum(fld),
         sum(pra), sum(prd), sum(sts), sum(sls) from (
    select found_on as day, town_id, ps, kind, 1 as gf, 0 as gr, 0 as rc, 0 as rr, 0 as gra, 0 as grd, 0 as fla, 0 as fld, 0 as pra, 0 as prd, 0 as sts, 0 as sls from p where candidate
    union all select deregistered_on, town_id, ps, kind, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 from p where candidate and deregistered_on is not null
    union all select reg, town_id, ps, kind, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 from p where reg is not null and (deregistered_on is null or reg < deregistered_on)
    union all select deregistered_on, town_id, ps, kind, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 from p where reg is not null and reg < deregistered_on
    union all select s, town_id, ps, kind, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 from span where e is null or e > s
    union all select e, town_id, ps, kind, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0 from span where e is not null and e > s
    union all select rs, town_id, ps, kind, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 from span where rs is not null and (e is null or e > rs)
    union all select e, town_id, ps, kind, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0 from span where rs is not null and e is not null and e > rs
    union all select registered_on, town_id, ps, kind, 0, 0, 0, 0, gr::int, 0, fl::int, 0, 0, 0, 0, 0 from events where registered_on is not null
    union all select deregistered_on, town_id, ps, kind, 0, 0, 0, 0, 0, gr::int, 0, fl::int, 0, 0, 0, 0 from events where deregistered_on is not null
    union all select reg, town_id, ps, kind, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 from p where reg is not null
    union all select deregistered_on, town_id, ps, kind, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0 from p where reg is not null and deregistered_on is not null
    union all select statement_signed_on, town_id, ps, kind, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 from p where candidate and statement_signed_on is not null
    union all select second_landlord_collected_on, town_id, ps, kind, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 from p where candidate and second_landlord_collected_on is not null
  ) x group by day, town_id, ps, kind;

  insert into hazard_delta (day, town_id, police_station_id, kind, category_code, department_code, found, rectified, major_found, major_rectified, overdue)
  with t as (
    select p.town_id, coalesce(p.police_station_id, 0) as ps, p.kind, i.category_code as c, h.department_code as dep,
           local_day(h.found_at) as f,
           local_day(h.rectified_at) as r,
           greatest(h.deadline + 1, local_day(h.found_at)) as o,
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

  insert into group_rental_hazard_delta (day, town_id, police_station_id, category_code, found, rectified)
  with t as (
    select p.town_id, coalesce(p.police_station_id, 0) as ps, i.category_code as c, local_day(h.found_at) as f, local_day(h.rectified_at) as r
    from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
    where is_group_rental_candidate(p.kind, p.meets_rule) and (p.group_rental_since is null or local_day(h.found_at) >= p.group_rental_since)
  )
  select day, town_id, ps, c, sum(fo), sum(re) from (
    select f as day, town_id, ps, c, 1 as fo, 0 as re from t
    union all select r, town_id, ps, c, 0, 1 from t where r is not null
  ) x group by 1, 2, 3, 4;
$$;
