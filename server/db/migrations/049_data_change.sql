-- Where each new data version changed the map: the areas (tiles of zoom 16, x * 65536 + y) of the
-- premises a statement wrote, or of the premises of the hazards it wrote; null when it wrote too many
-- places to list (the whole map counts as changed). Tile caches key on the version of the area a tile
-- covers, so an inspector's write in one street leaves every other tile of the district cached
-- (server/plugins/app/versions.ts). Written by record_data_change() (functions/tiles.sql), announced
-- with the version; kept for the last 10,000 versions, for a process that missed announcements.
create table data_change (
  version bigint primary key,
  areas   bigint[]
);
