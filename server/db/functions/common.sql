-- What the other files use: the bulk-load switch and updated_at. This file is applied first of
-- those that use it (the files run in name order).

-- The bulk-load switch: set_config('app.bulk_load', 'on', true) turns it on until the end of the
-- transaction (server/db/bulk-load.ts). Only the triggers that keep derived data (summaries, tile
-- cells, daily changes, the data version, the hazard history) follow it, with
-- `when (not bulk_load_active())`: a trigger whose condition is false is not even queued, so a bulk
-- write of a million rows keeps no per-row after-trigger events in memory. The writer rebuilds
-- what they keep set-wise before it commits (the refresh_* functions). The triggers that protect
-- data (the append-only audit trail, the frozen submitted tables) and the rules (areas from the
-- point, hazard items, updated_at) have no such condition and always run, whoever writes.
create or replace function bulk_load_active() returns boolean language sql stable parallel safe as $$
  select coalesce(current_setting('app.bulk_load', true), '') = 'on'
$$;

create or replace function touch_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end $$;
create or replace trigger premises_touch_trg before update on premises for each row execute function touch_updated_at();
create or replace trigger hazard_touch_trg before update on hazard for each row execute function touch_updated_at();
create or replace trigger key_area_touch_trg before update on key_area for each row execute function touch_updated_at();
create or replace trigger app_user_touch_trg before update on app_user for each row execute function touch_updated_at();
create or replace trigger enforcement_event_touch_trg before update on enforcement_event for each row execute function touch_updated_at();
create or replace trigger lead_touch_trg before update on lead for each row execute function touch_updated_at();

-- The district's calendar, as server/domain/calendar.ts has it: the day an instant falls on there,
-- and the first instant after a day there (times before it happened on or before the day). Plain
-- SQL and stable, so that the planner inlines them: a query reads as if the expression were
-- written out, and an index on it is used the same.
create or replace function local_day(t timestamptz) returns date language sql stable parallel safe as $$
  select (t at time zone 'Asia/Shanghai')::date
$$;
create or replace function end_of_local_day(d date) returns timestamptz language sql stable parallel safe as $$
  select (d + 1)::timestamp at time zone 'Asia/Shanghai'
$$;

-- True, and marked parallel unsafe: a statement that calls it is planned without parallel workers
-- (a one-time filter, called once). For statements of a few milliseconds that the planner would
-- otherwise hand to a worker, whose start costs more than the whole statement: a dense tile's
-- ST_AsMVT of 2,083 points took 53 ms with one worker, 3-5 ms without (1,000,000 premises).
-- plpgsql, so that it is never inlined into a constant the planner would see as safe.
create or replace function serial_plan() returns boolean language plpgsql stable parallel unsafe as $$
begin
  return true;
end $$;
