-- Rules the database keeps itself, so that every writer (API, import, seed) obeys them.

-- The colour of a premises on the map. Overdue wins over major: a missed deadline is what a
-- commander must act on first.
create function hazard_status(hazard_count int, open_count int, open_major_count int,
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
create function premises_assign_areas() returns trigger language plpgsql as $$
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
create trigger premises_assign_areas_trg before insert or update of geom on premises
  for each row execute function premises_assign_areas();

create function touch_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;
create trigger premises_touch_trg before update on premises for each row execute function touch_updated_at();
create trigger hazard_touch_trg before update on hazard for each row execute function touch_updated_at();
create trigger key_area_touch_trg before update on key_area for each row execute function touch_updated_at();
create trigger app_user_touch_trg before update on app_user for each row execute function touch_updated_at();

-- "Other, describe" items need their description; other items must not carry one.
create function hazard_check_item() returns trigger language plpgsql as $$
declare
  needs boolean;
begin
  select needs_text into needs from hazard_item where code = new.item_code;
  if needs and (new.other_text is null or btrim(new.other_text) = '') then
    raise exception 'hazard item % needs a description of the hazard', new.item_code
      using errcode = '23514', constraint = 'hazard_other_text_required';
  end if;
  if not needs and new.other_text is not null then
    raise exception 'hazard item % takes no free text; choose an "other" item to describe a hazard', new.item_code
      using errcode = '23514', constraint = 'hazard_other_text_forbidden';
  end if;
  return new;
end $$;
create trigger hazard_check_item_trg before insert or update of item_code, other_text on hazard
  for each row execute function hazard_check_item();

-- Status history: every step that gets a time gets an event, written by the database so that no
-- writer can forget it. The acting user comes from the transaction setting app.user_id.
create function hazard_history() returns trigger language plpgsql as $$
declare
  actor int := nullif(current_setting('app.user_id', true), '')::int;
begin
  if tg_op = 'INSERT' then
    insert into hazard_event (hazard_id, status, at, user_id, department_code)
      values (new.id, 'found', new.found_at, actor, null);
  end if;
  if new.referred_at is not null and (tg_op = 'INSERT' or old.referred_at is null) then
    insert into hazard_event (hazard_id, status, at, user_id, department_code)
      values (new.id, 'referred', new.referred_at, actor, new.department_code);
  end if;
  if new.rectified_at is not null and (tg_op = 'INSERT' or old.rectified_at is null) then
    insert into hazard_event (hazard_id, status, at, user_id, department_code)
      values (new.id, 'rectified', new.rectified_at, actor, null);
  end if;
  if new.verified_at is not null and (tg_op = 'INSERT' or old.verified_at is null) then
    insert into hazard_event (hazard_id, status, at, user_id, department_code)
      values (new.id, 'verified', new.verified_at, actor, null);
  end if;
  return null;
end $$;
create trigger hazard_history_trg after insert or update of referred_at, rectified_at, verified_at on hazard
  for each row execute function hazard_history();

-- Keeps the per-premises hazard summary that colours the map.
create function premises_refresh_hazard_summary(pid bigint) returns void language sql as $$
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

create function hazard_summary() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform premises_refresh_hazard_summary(old.premises_id);
  end if;
  if tg_op in ('INSERT', 'UPDATE') and (tg_op = 'INSERT' or new.premises_id <> old.premises_id) then
    perform premises_refresh_hazard_summary(new.premises_id);
  end if;
  return null;
end $$;
create trigger hazard_summary_trg after insert or update or delete on hazard
  for each row execute function hazard_summary();

-- Bulk loaders disable the row triggers above and call this once instead.
create function refresh_all_hazard_summaries() returns void language sql as $$
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

-- The campaign of the notice (常开委办〔2019〕186号): its phases and targets.
insert into campaign (code, name_zh, name_en, starts_on, ends_on, report_days) values
  ('xinbei-2019', '新北区群租房安全隐患集中整治', 'Xinbei group-rental hazard remediation campaign',
   '2019-12-15', '2020-12-31', '{14,29}');
insert into campaign_phase (campaign_id, seq, code, name_zh, name_en, starts_on, ends_on)
  select id, 1, 'mobilisation', '动员部署阶段', 'Mobilisation', date '2019-12-15', date '2019-12-31' from campaign where code = 'xinbei-2019'
  union all
  select id, 2, 'remediation', '排查整治阶段', 'Inspection and remediation', '2020-01-01', '2020-11-30' from campaign where code = 'xinbei-2019'
  union all
  select id, 3, 'consolidation', '总结巩固阶段', 'Consolidation', '2020-12-01', '2020-12-31' from campaign where code = 'xinbei-2019';
insert into campaign_target (campaign_id, measure, target)
  select id, m.measure, m.target from campaign,
    (values ('group_rentals_registered', 1.0), ('residents_registered', 0.95),
            ('major_hazards_rectified', 1.0), ('hazards_rectified', null)) as m(measure, target)
  where code = 'xinbei-2019';
