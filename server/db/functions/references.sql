-- The references of escalation_event and notice (their foreign keys until migration 038), checked
-- once per statement over the rows it wrote (transition tables) instead of once per row: the same
-- rules, one join each, where a backlog's escalation writes hundreds of thousands of rows. Like a
-- foreign key, a check locks the rows it relies on (key share), so a concurrent delete of one
-- waits for the writer's commit and its cascade then sees the new rows.

create or replace function escalation_event_check_items() returns trigger language plpgsql as $$
declare
  held bigint;
  missing bigint;
begin
  -- One pass: the items found (and locked) against the items named; the missing one only on failure.
  -- The ids go in as an array, so each is looked up by the key: a join over thousands of written
  -- rows was planned as a scan of every item, once per statement.
  with found_items as (select s.id from supervision_item s where s.id = any(array(select distinct item_id from written)) for key share)
  select count(*) into held from found_items;
  if held < (select count(distinct item_id) from written) then
    select w.item_id into missing from written w where not exists (select 1 from supervision_item s where s.id = w.item_id) limit 1;
    raise foreign_key_violation using message = format('escalation_event refers to supervision item %s, which does not exist', missing),
      constraint = 'escalation_event_item_id_fkey', table = 'escalation_event';
  end if;
  return null;
end $$;
create or replace trigger escalation_event_items_inserted after insert on escalation_event
  referencing new table as written for each statement execute function escalation_event_check_items();
create or replace trigger escalation_event_items_updated after update on escalation_event
  referencing new table as written for each statement execute function escalation_event_check_items();

create or replace function notice_check_references() returns trigger language plpgsql as $$
declare
  whole boolean;
  bad text;
begin
  -- A statement's notices name a few users and places: those are found (and locked) and counted.
  with refs as materialized (select distinct user_id, town_id, police_station_id from written),
  users as (select u.id from app_user u where u.id in (select user_id from refs) for key share),
  towns as (select a.id from admin_area a where a.id in (select town_id from refs) for key share),
  stations as (select p.id from police_station p where p.id in (select police_station_id from refs) for key share)
  select (select count(*) from users) = (select count(distinct user_id) from refs)
     and (select count(*) from towns) = (select count(distinct town_id) from refs)
     and (select count(*) from stations) = (select count(distinct police_station_id) from refs)
    into whole;
  if not whole then
    select coalesce(
             (select 'user ' || w.user_id from written w where not exists (select 1 from app_user u where u.id = w.user_id) limit 1),
             (select 'town ' || w.town_id from written w where w.town_id is not null and not exists (select 1 from admin_area a where a.id = w.town_id) limit 1),
             (select 'police station ' || w.police_station_id from written w
              where w.police_station_id is not null and not exists (select 1 from police_station p where p.id = w.police_station_id) limit 1))
      into bad;
    raise foreign_key_violation using message = format('notice refers to %s, which does not exist', bad), table = 'notice';
  end if;
  return null;
end $$;
create or replace trigger notice_references_inserted after insert on notice
  referencing new table as written for each statement execute function notice_check_references();
create or replace trigger notice_references_updated after update on notice
  referencing new table as written for each statement execute function notice_check_references();

-- The referenced side: an item deleted takes its levels with it, a user deleted their notices
-- (the dropped keys' on delete cascade); a town or police station a notice names stays.
create or replace function supervision_item_cascade_events() returns trigger language plpgsql as $$
begin
  delete from escalation_event e using gone g where e.item_id = g.id;
  return null;
end $$;
create or replace trigger supervision_item_events_deleted after delete on supervision_item
  referencing old table as gone for each statement execute function supervision_item_cascade_events();

create or replace function app_user_cascade_notices() returns trigger language plpgsql as $$
begin
  delete from notice n using gone g where n.user_id = g.id;
  return null;
end $$;
create or replace trigger app_user_notices_deleted after delete on app_user
  referencing old table as gone for each statement execute function app_user_cascade_notices();

create or replace function notice_place_kept() returns trigger language plpgsql as $$
declare
  used int;
begin
  if tg_table_name = 'admin_area' then
    select g.id into used from gone g where exists (select 1 from notice n where n.town_id = g.id) limit 1;
  else
    select g.id into used from gone g where exists (select 1 from notice n where n.police_station_id = g.id) limit 1;
  end if;
  if found then
    raise foreign_key_violation using message = format('%s %s is named by notices: it cannot be removed', tg_table_name, used), table = tg_table_name;
  end if;
  return null;
end $$;
create or replace trigger admin_area_notices_kept after delete on admin_area
  referencing old table as gone for each statement execute function notice_place_kept();
create or replace trigger police_station_notices_kept after delete on police_station
  referencing old table as gone for each statement execute function notice_place_kept();

-- Ids are never renumbered; a change of one that rows refer to is refused, as the keys did.
create or replace function referenced_id_kept() returns trigger language plpgsql as $$
begin
  if new.id is distinct from old.id then
    raise foreign_key_violation using message = format('the id of %s %s cannot change', tg_table_name, old.id), table = tg_table_name;
  end if;
  return new;
end $$;
create or replace trigger supervision_item_id_kept before update of id on supervision_item for each row execute function referenced_id_kept();
create or replace trigger app_user_id_kept before update of id on app_user for each row execute function referenced_id_kept();
create or replace trigger admin_area_id_kept before update of id on admin_area for each row execute function referenced_id_kept();
create or replace trigger police_station_id_kept before update of id on police_station for each row execute function referenced_id_kept();
