-- The key-area cells' daily changes (premises_cell_day, migration 036) follow every statement that
-- writes premises, residents or hazards: the premises it touched, in what their changes depend on,
-- are counted again (refresh_premises_cell_days). Statement triggers with transition tables, so a
-- statement writing many rows of one premises recounts it once, from its rows as they are after it.

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
      where (n.geom_m, n.town_id, n.police_station_id, n.kind, n.meets_rule, n.found_on, n.deregistered_on)
            is distinct from (o.geom_m, o.town_id, o.police_station_id, o.kind, o.meets_rule, o.found_on, o.deregistered_on);
    end if;
  elsif tg_table_name = 'resident' then
    if tg_op = 'INSERT' then
      select array_agg(distinct premises_id) into ids from new_rows;
    elsif tg_op = 'DELETE' then
      select array_agg(distinct premises_id) into ids from old_rows;
    else
      select array_agg(distinct x.premises_id) into ids from new_rows n join old_rows o on o.id = n.id
        cross join lateral (values (n.premises_id), (o.premises_id)) x(premises_id)
      where (n.premises_id, n.moved_in_on, n.moved_out_on, n.registered_on) is distinct from (o.premises_id, o.moved_in_on, o.moved_out_on, o.registered_on);
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

