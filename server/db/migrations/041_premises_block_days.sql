-- The key-area preview of a town-sized area (25 km²) read about 3,800 cells' running totals one by
-- one (premises_cell_day, migrations 036/037). A block is 4 x 4 of those cells (about 304 m, the
-- zoom-11 cells of the same grid: block x = cell x / 4): its running totals per town and police
-- station are the sums of its cells' on each day one changed, so that the blocks wholly inside a
-- boundary are read a row each, then the cells wholly inside the blocks it crosses, then the
-- premises of the cells it crosses. Rebuilt from the cells' totals for the blocks a write touched
-- (server/db/functions/key-area-cells.sql).
create table premises_block_day (
  block_x                     int not null,
  block_y                     int not null,
  town_id                     int not null,
  police_station_id           int not null,    -- 0 when none
  day                         date not null,
  houses                      int not null default 0,
  rental_houses               int not null default 0,
  group_rentals               int not null default 0,
  group_rentals_with_hazards  int not null default 0,
  residents_registered        int not null default 0,
  hz_public_security          int not null default 0,
  hz_fire                     int not null default 0,
  hz_housing                  int not null default 0,
  hz_other                    int not null default 0,
  primary key (block_x, block_y, town_id, police_station_id, day)
);
