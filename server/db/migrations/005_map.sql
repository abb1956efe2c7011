-- The map at scale: Web Mercator points for tiles, and a data version that tile caches follow.

-- Tiles are cut in Web Mercator; keeping the projected point (and its index) saves transforming
-- every row of every tile request.
alter table premises add column geom_m geometry(Point, 3857) generated always as (st_transform(geom, 3857)) stored;
create index premises_geom_m_idx on premises using gist (geom_m);

-- Map filters by hazard category look up a premises' hazards by category.
create index hazard_premises_item_idx on hazard (premises_id, item_code);

-- One counter for everything a map tile shows. Statement-level triggers bump it on any change to
-- premises or hazards, from the API, an import or psql alike; tile caches key on it.
create table data_version (
  id      boolean primary key default true check (id),
  version bigint not null default 1
);
insert into data_version (id) values (true);

create function bump_data_version() returns trigger language plpgsql as $$
begin
  update data_version set version = version + 1;
  return null;
end $$;
create trigger premises_version_trg after insert or update or delete on premises
  for each statement execute function bump_data_version();
create trigger hazard_version_trg after insert or update or delete on hazard
  for each statement execute function bump_data_version();
