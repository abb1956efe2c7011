-- A counter for everything the dashboard's figures are computed from (the measures, the trend, the
-- hazard breakdown), which caches of those figures key on, as tile caches key on data_version. It is
-- bumped by a statement trigger on every table those figures read, including the derived daily-change
-- tables, so a set-wise rebuild (an import's merge with the row triggers off) bumps it as well.
-- Apart from data_version: a resident's registration changes the figures but no map tile.
create table figures_version (
  id      boolean primary key default true check (id),
  version bigint not null default 1
);
insert into figures_version (id) values (true);

create function bump_figures_version() returns trigger language plpgsql as $$
begin
  update figures_version set version = version + 1;
  return null;
end $$;

create trigger premises_figures_trg after insert or update or delete or truncate on premises
  for each statement execute function bump_figures_version();
create trigger resident_figures_trg after insert or update or delete or truncate on resident
  for each statement execute function bump_figures_version();
create trigger hazard_figures_trg after insert or update or delete or truncate on hazard
  for each statement execute function bump_figures_version();
create trigger measure_delta_figures_trg after insert or update or delete or truncate on measure_delta
  for each statement execute function bump_figures_version();
create trigger hazard_delta_figures_trg after insert or update or delete or truncate on hazard_delta
  for each statement execute function bump_figures_version();
create trigger hazard_item_figures_trg after insert or update or delete or truncate on hazard_item
  for each statement execute function bump_figures_version();
create trigger admin_area_figures_trg after insert or update or delete or truncate on admin_area
  for each statement execute function bump_figures_version();
create trigger police_station_figures_trg after insert or update or delete or truncate on police_station
  for each statement execute function bump_figures_version();
