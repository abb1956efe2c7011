-- The tiles' pre-grouped cells (premises_cell, migration 006) again, two by two (issue 19: a dense
-- zoom-12 tile grouped the 55,922 rows of its cells in premises_cell into its 4,345 cells, about
-- 40 ms of its 50). The columns and key of premises_cell8 (migration 046); cx and cy are
-- premises_cell's cx / 2 and cy / 2. The same statement triggers on premises_cell keep it equal to
-- premises_cell grouped so (server/db/functions/tiles.sql, which fills it for a database that had
-- cells before).
create table premises_cell2 (
  like premises_cell8 including constraints,
  primary key (cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
);
-- A tile reads its columns of cells by the key; never a scan worth a worker's start.
alter table premises_cell2 set (parallel_workers = 0);
