-- The biweekly tables filled from real entry (issue 14): enforcement results and flagged persons
-- entered through the API and imports, the history of a premises' kind, and the one switch for how
-- persons of concern are counted.

-- ---------------------------------------------------------------------------------------------
-- Enforcement results: entered, edited and voided (never deleted), each with its case or decision
-- number. A record need not belong to premises (a case solved at a station), so it has no place
-- then; it always has its police station, which is what attachment 5 counts it under.
-- ---------------------------------------------------------------------------------------------
alter table enforcement_event
  alter column geom drop not null,
  add column case_number text check (case_number is null or length(case_number) between 1 and 60),
  add column created_at timestamptz not null default now(),
  add column created_by int references app_user(id),
  add column updated_at timestamptz not null default now(),
  add column voided_at timestamptz,
  add column voided_by int references app_user(id),
  add column void_reason text check (void_reason is null or length(void_reason) between 1 and 200),
  add column external_ref text,
  add constraint enforcement_event_note_check check (note is null or length(note) <= 500),
  add constraint enforcement_event_void_check check ((voided_at is null) = (void_reason is null)),
  -- A record without premises is placed by its police station alone.
  add constraint enforcement_event_placed_check check (premises_id is not null or geom is not null or police_station_id is not null);
create index enforcement_event_premises_idx on enforcement_event (premises_id);
create unique index enforcement_event_external_ref_idx on enforcement_event (external_ref) where external_ref is not null;
create trigger enforcement_event_touch_trg before update on enforcement_event for each row execute function touch_updated_at();
-- Voided records stay, so that what was counted and why it no longer is can be read back.
create function enforcement_event_no_delete() returns trigger language plpgsql as $$
begin
  raise exception 'an enforcement record is voided with a reason, never deleted' using errcode = '42501';
end $$;
create trigger enforcement_event_no_delete_trg before delete on enforcement_event
  for each row execute function enforcement_event_no_delete();

alter table import_job drop constraint import_job_kind_check;
alter table import_job add constraint import_job_kind_check check (kind in ('premises', 'residents', 'hazards', 'enforcement'));

-- ---------------------------------------------------------------------------------------------
-- Flags on residents (可能肇事肇祸精神病人, 关注对象): set and cleared with a date and a reason, by
-- whom; a flag cleared and set again is a new row, so the table is the flag's history.
-- ---------------------------------------------------------------------------------------------
alter table resident_flag drop constraint resident_flag_pkey;
alter table resident_flag
  add column id bigserial primary key,
  add column reason text check (reason is null or length(reason) between 1 and 200),
  add column cleared_reason text check (cleared_reason is null or length(cleared_reason) between 1 and 200),
  add column set_by int references app_user(id),
  add column cleared_by int references app_user(id),
  add column created_at timestamptz not null default now();
create unique index resident_flag_open_idx on resident_flag (resident_id, category) where cleared_on is null;
create index resident_flag_resident_idx on resident_flag (resident_id);

-- ---------------------------------------------------------------------------------------------
-- How persons of concern are counted: the notice's note 3 defines 关注对象 to include the mentally
-- ill, while the table gives them a column of their own. false (the default): the three "of them"
-- columns are disjoint (mental illness first, then concern, then others); true: 关注对象 also
-- counts the mentally ill, and 其他 is everyone who is neither.
-- ---------------------------------------------------------------------------------------------
alter table campaign add column concern_includes_mental_illness boolean not null default false;

-- ---------------------------------------------------------------------------------------------
-- A premises' kind over time. group_rental_since is the day it became a group rental (its found
-- day when recorded as one from the start); a registration counts on the later of its registration
-- day and that day, so changing a rental into a group rental today adds a registration today, not
-- on its old registration day. premises_kind_change keeps every change.
-- ---------------------------------------------------------------------------------------------
alter table premises add column group_rental_since date;
update premises set group_rental_since = found_on where kind = 'group_rental';

create table premises_kind_change (
  id          bigserial primary key,
  premises_id bigint not null references premises(id) on delete cascade,
  from_kind   text not null,
  to_kind     text not null,
  changed_on  date not null,
  changed_at  timestamptz not null default now(),
  user_id     int references app_user(id)
);
create index premises_kind_change_premises_idx on premises_kind_change (premises_id);

create function premises_track_kind() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    new.group_rental_since := case when new.kind = 'group_rental' then coalesce(new.group_rental_since, new.found_on) end;
    return new;
  end if;
  if new.kind is distinct from old.kind then
    if new.kind = 'group_rental' then
      -- The writer may say when it became one (an import of a ledger); otherwise it is today.
      new.group_rental_since := case when new.group_rental_since is not null and new.group_rental_since is distinct from old.group_rental_since
                                     then new.group_rental_since else greatest(new.found_on, (now() at time zone 'Asia/Shanghai')::date) end;
    else
      new.group_rental_since := null;
    end if;
    insert into premises_kind_change (premises_id, from_kind, to_kind, changed_on, user_id)
      values (new.id, old.kind, new.kind, coalesce(new.group_rental_since, (now() at time zone 'Asia/Shanghai')::date),
              nullif(current_setting('app.user_id', true), '')::int);
  else
    -- Without a change of kind the day stays as it was: it is history, not a field to edit.
    new.group_rental_since := old.group_rental_since;
  end if;
  return new;
end $$;
create trigger premises_track_kind_trg before insert or update of kind, group_rental_since on premises
  for each row execute function premises_track_kind();

-- The day a group rental's registration counts: the later of its registration and the day it
-- became a group rental. Null when it is not a registered group rental.
create function group_rental_registered_on(kind text, registered_on date, since date) returns date
language sql immutable parallel safe as $$
  select case when kind = 'group_rental' and registered_on is not null then greatest(registered_on, coalesce(since, registered_on)) end
$$;

drop function premises_delta_rows(premises);

-- 011's changes of one premises, with the registration on group_rental_registered_on.
create function premises_delta_rows(p premises)
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

-- Set-wise, for bulk loaders: 011's rebuild, with the registration on group_rental_registered_on.
create or replace function refresh_measure_deltas() returns void language sql as $$
  delete from measure_delta;
  delete from hazard_delta;
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
