-- Attachment 5's premises columns as daily event counts too (see 010): group rentals registered and
-- deregistered, statements signed and second landlords' details collected, on the day recorded, so
-- that a district table no longer reads every premises. The premises trigger now also follows the
-- two dates these columns count. Definitions as in reportCounts (server/plugins/app/measures.ts):
--
--   ev_gr_registered       premises recorded as a group rental, on registered_on
--   ev_gr_deregistered     ... with registered_on, on deregistered_on
--   ev_statements_signed   found group rentals (recorded, or a rental meeting the rule), on statement_signed_on
--   ev_second_landlords    ... on second_landlord_collected_on

alter table measure_delta
  add column ev_gr_registered int not null default 0,
  add column ev_gr_deregistered int not null default 0,
  add column ev_statements_signed int not null default 0,
  add column ev_second_landlords int not null default 0;

drop function premises_delta_rows(premises);

-- The changes one premises itself brings.
create function premises_delta_rows(p premises)
returns table (day date, gr_found int, gr_registered int, ev_reg int, ev_dereg int, ev_statement int, ev_second int)
language sql stable as $$
  select d, sum(f)::int, sum(r)::int, sum(a)::int, sum(b)::int, sum(s)::int, sum(l)::int from (
    select p.found_on as d, 1 as f, 0 as r, 0 as a, 0 as b, 0 as s, 0 as l where is_group_rental_candidate(p.kind, p.meets_rule)
    union all select p.deregistered_on, -1, 0, 0, 0, 0, 0 where is_group_rental_candidate(p.kind, p.meets_rule) and p.deregistered_on is not null
    union all select p.registered_on, 0, 1, 1, 0, 0, 0 where p.kind = 'group_rental' and p.registered_on is not null
    union all select p.deregistered_on, 0, -1, 0, 1, 0, 0 where p.kind = 'group_rental' and p.registered_on is not null and p.deregistered_on is not null
    union all select p.statement_signed_on, 0, 0, 0, 0, 1, 0 where is_group_rental_candidate(p.kind, p.meets_rule) and p.statement_signed_on is not null
    union all select p.second_landlord_collected_on, 0, 0, 0, 0, 0, 1 where is_group_rental_candidate(p.kind, p.meets_rule) and p.second_landlord_collected_on is not null
  ) x group by d
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

-- Premises: as in 007, and also when a statement or second-landlord date changes.
create or replace function measure_premises_trg() returns trigger language plpgsql as $$
declare
  moved boolean;
  r resident;
  h hazard;
begin
  if tg_op = 'UPDATE' then
    moved := (new.town_id, new.police_station_id, new.kind, new.meets_rule, new.found_on, new.deregistered_on)
             is distinct from (old.town_id, old.police_station_id, old.kind, old.meets_rule, old.found_on, old.deregistered_on);
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

-- Set-wise, for bulk loaders: 010's rebuild, plus the premises events.
create or replace function refresh_measure_deltas() returns void language sql as $$
  delete from measure_delta;
  delete from hazard_delta;
  insert into measure_delta (day, town_id, police_station_id, kind, gr_found, gr_registered, res_counted, res_registered,
                             ev_gr_res_registered, ev_gr_res_deregistered, ev_floating_registered, ev_floating_deregistered,
                             ev_gr_registered, ev_gr_deregistered, ev_statements_signed, ev_second_landlords)
  with p as (
    select id, town_id, coalesce(police_station_id, 0) as ps, kind, meets_rule, found_on, registered_on, deregistered_on,
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
    union all select registered_on, town_id, ps, kind, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 from p where kind = 'group_rental' and registered_on is not null
    union all select deregistered_on, town_id, ps, kind, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 from p where kind = 'group_rental' and registered_on is not null and deregistered_on is not null
    union all select s, town_id, ps, kind, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 from span where e is null or e > s
    union all select e, town_id, ps, kind, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0 from span where e is not null and e > s
    union all select rs, town_id, ps, kind, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 from span where rs is not null and (e is null or e > rs)
    union all select e, town_id, ps, kind, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0 from span where rs is not null and e is not null and e > rs
    union all select registered_on, town_id, ps, kind, 0, 0, 0, 0, gr::int, 0, fl::int, 0, 0, 0, 0, 0 from events where registered_on is not null
    union all select deregistered_on, town_id, ps, kind, 0, 0, 0, 0, 0, gr::int, 0, fl::int, 0, 0, 0, 0 from events where deregistered_on is not null
    union all select registered_on, town_id, ps, kind, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 from p where kind = 'group_rental' and registered_on is not null
    union all select deregistered_on, town_id, ps, kind, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0 from p where kind = 'group_rental' and registered_on is not null and deregistered_on is not null
    union all select statement_signed_on, town_id, ps, kind, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 from p where candidate and statement_signed_on is not null
    union all select second_landlord_collected_on, town_id, ps, kind, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 from p where candidate and second_landlord_collected_on is not null
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
