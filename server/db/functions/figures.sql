-- A counter for everything the dashboard's figures are computed from (table figures_version,
-- migration 027), which caches of those figures key on, as tile caches key on data_version. Bumped
-- by a statement trigger on every table those figures read, the derived daily-change tables
-- included, so a set-wise rebuild (an import's merge with the row triggers off) bumps it as well.
create or replace function bump_figures_version() returns trigger language plpgsql as $$
begin
  update figures_version set version = version + 1;
  return null;
end $$;

create or replace trigger premises_figures_trg after insert or update or delete or truncate on premises
  for each statement execute function bump_figures_version();
create or replace trigger resident_figures_trg after insert or update or delete or truncate on resident
  for each statement execute function bump_figures_version();
create or replace trigger hazard_figures_trg after insert or update or delete or truncate on hazard
  for each statement execute function bump_figures_version();
create or replace trigger measure_delta_figures_trg after insert or update or delete or truncate on measure_delta
  for each statement execute function bump_figures_version();
create or replace trigger hazard_delta_figures_trg after insert or update or delete or truncate on hazard_delta
  for each statement execute function bump_figures_version();
create or replace trigger hazard_item_figures_trg after insert or update or delete or truncate on hazard_item
  for each statement execute function bump_figures_version();
create or replace trigger admin_area_figures_trg after insert or update or delete or truncate on admin_area
  for each statement execute function bump_figures_version();
create or replace trigger police_station_figures_trg after insert or update or delete or truncate on police_station
  for each statement execute function bump_figures_version();
-- The campaign, its phases and targets: the figures' measures and every map request's day follow
-- them, and the app keeps the campaign under this version too.
create or replace trigger campaign_figures_trg after insert or update or delete or truncate on campaign
  for each statement execute function bump_figures_version();
create or replace trigger campaign_phase_figures_trg after insert or update or delete or truncate on campaign_phase
  for each statement execute function bump_figures_version();
create or replace trigger campaign_target_figures_trg after insert or update or delete or truncate on campaign_target
  for each statement execute function bump_figures_version();
-- Places (schools, factories, villages): the rings around them are kept under this version.
create or replace trigger poi_figures_trg after insert or update or delete or truncate on poi
  for each statement execute function bump_figures_version();
