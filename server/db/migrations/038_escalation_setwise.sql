-- The day's escalation at scale (issue 18's bench: a first run over two months of backlog at
-- 1,000,000 premises wrote 196,690 levels and 96,690 notices in 17.5 s, a third of it in the
-- foreign keys' row triggers, one query per row and key).

-- A level raised changes one narrow column: with room on its page the new version stays there (a
-- heap-only update) and none of the item's five indexes is written again. A first run after a
-- backlog raises every open item at once, before any old version can be pruned, so each page keeps
-- room for a second copy of all its rows (at 1,000,000 premises, 100,000 items: 23 MB become 46 MB;
-- at 80 % a quarter of the updates stayed on their page and a level raised cost four times as
-- much). Pages written from now on keep the room; the ones already full get it when rewritten.
alter table supervision_item set (fillfactor = 50);

-- Nothing reads the levels by day: an index each insert paid for without a reader.
drop index escalation_event_day_idx;

-- ---------------------------------------------------------------------------------------------
-- The references of escalation_event and notice are checked once per statement over the rows it
-- wrote (transition tables), instead of once per row: the same rules, one join each. Like a
-- foreign key, a check locks the rows it relies on (key share), so a concurrent delete of one
-- waits for the writer's commit and its cascade then sees the new rows.
-- ---------------------------------------------------------------------------------------------
alter table escalation_event drop constraint escalation_event_item_id_fkey;
alter table notice drop constraint notice_user_id_fkey;
alter table notice drop constraint notice_town_id_fkey;
alter table notice drop constraint notice_police_station_id_fkey;

create function escalation_event_check_items() returns trigger language plpgsql as $$
declare
  missing bigint;
begin
  perform 1 from supervision_item s where s.id in (select item_id from written) for key share;
  select w.item_id into missing from written w where not exists (select 1 from supervision_item s where s.id = w.item_id) limit 1;
  if found then
    raise foreign_key_violation using message = format('escalation_event refers to supervision item %s, which does not exist', missing),
      constraint = 'escalation_event_item_id_fkey', table = 'escalation_event';
  end if;
  return null;
end $$;
create trigger escalation_event_items_inserted after insert on escalation_event
  referencing new table as written for each statement execute function escalation_event_check_items();
create trigger escalation_event_items_updated after update on escalation_event
  referencing new table as written for each statement execute function escalation_event_check_items();

create function notice_check_references() returns trigger language plpgsql as $$
declare
  bad text;
begin
  perform 1 from app_user u where u.id in (select user_id from written) for key share;
  perform 1 from admin_area a where a.id in (select town_id from written) for key share;
  perform 1 from police_station p where p.id in (select police_station_id from written) for key share;
  select coalesce(
           (select 'user ' || w.user_id from written w where not exists (select 1 from app_user u where u.id = w.user_id) limit 1),
           (select 'town ' || w.town_id from written w where w.town_id is not null and not exists (select 1 from admin_area a where a.id = w.town_id) limit 1),
           (select 'police station ' || w.police_station_id from written w
            where w.police_station_id is not null and not exists (select 1 from police_station p where p.id = w.police_station_id) limit 1))
    into bad;
  if bad is not null then
    raise foreign_key_violation using message = format('notice refers to %s, which does not exist', bad), table = 'notice';
  end if;
  return null;
end $$;
create trigger notice_references_inserted after insert on notice
  referencing new table as written for each statement execute function notice_check_references();
create trigger notice_references_updated after update on notice
  referencing new table as written for each statement execute function notice_check_references();

-- The referenced side: an item deleted takes its levels with it, a user deleted their notices
-- (the dropped keys' on delete cascade); a town or police station a notice names stays.
create function supervision_item_cascade_events() returns trigger language plpgsql as $$
begin
  delete from escalation_event e using gone g where e.item_id = g.id;
  return null;
end $$;
create trigger supervision_item_events_deleted after delete on supervision_item
  referencing old table as gone for each statement execute function supervision_item_cascade_events();

create function app_user_cascade_notices() returns trigger language plpgsql as $$
begin
  delete from notice n using gone g where n.user_id = g.id;
  return null;
end $$;
create trigger app_user_notices_deleted after delete on app_user
  referencing old table as gone for each statement execute function app_user_cascade_notices();

create function notice_place_kept() returns trigger language plpgsql as $$
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
create trigger admin_area_notices_kept after delete on admin_area
  referencing old table as gone for each statement execute function notice_place_kept();
create trigger police_station_notices_kept after delete on police_station
  referencing old table as gone for each statement execute function notice_place_kept();

-- Ids are never renumbered; a change of one that rows refer to is refused, as the keys did.
create function referenced_id_kept() returns trigger language plpgsql as $$
begin
  if new.id is distinct from old.id then
    raise foreign_key_violation using message = format('the id of %s %s cannot change', tg_table_name, old.id), table = tg_table_name;
  end if;
  return new;
end $$;
create trigger supervision_item_id_kept before update of id on supervision_item for each row execute function referenced_id_kept();
create trigger app_user_id_kept before update of id on app_user for each row execute function referenced_id_kept();
create trigger admin_area_id_kept before update of id on admin_area for each row execute function referenced_id_kept();
create trigger police_station_id_kept before update of id on police_station for each row execute function referenced_id_kept();
