-- The legend's count of premises that meet the group-rental rule unregistered (unregisteredSql,
-- server/plugins/app/premises.ts), read from this index alone: the counts by status come from the
-- pre-grouped cells (premises_cell8), which do not hold what makes a premises unregistered. About
-- 2 % of premises; the columns the map's filters and the status read are carried along.
create index premises_unregistered_idx on premises (town_id, police_station_id)
  include (kind, hazard_count, open_count, open_major_count, open_min_deadline)
  where meets_rule and kind in ('group_rental', 'rental') and not (kind = 'group_rental' and registered_on is not null) and deregistered_on is null;
