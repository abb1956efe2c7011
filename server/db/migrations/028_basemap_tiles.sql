-- The demo district's street map, cut at seed time into gzip-compressed vector tiles (zoom 10 to 16)
-- that the server hands out as they are. Tiles rather than features because the embedded database
-- has no ST_AsMVT: the seed encodes them once in Node, on either backend. A real deployment leaves
-- the table empty and configures a basemap file or service instead.
create table basemap_tile (
  z    smallint not null check (z between 0 and 22),
  x    integer not null check (x >= 0),
  y    integer not null check (y >= 0),
  data bytea not null,
  primary key (z, x, y)
);
