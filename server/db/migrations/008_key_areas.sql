-- Key areas drawn on the map: who created them, and the analysis a draft came from.
alter table key_area add column created_by int references app_user(id);
-- A draft proposed from a cluster analysis keeps the parameters that produced it.
alter table key_area add column proposed_from jsonb;
create index key_area_town_idx on key_area (town_id) where deleted_at is null;
