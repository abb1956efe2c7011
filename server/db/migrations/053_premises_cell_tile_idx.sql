-- A tile of zooms 10-13 reads every cell of its area and groups them into its own (a dense zoom-12
-- tile at 1,000,000 premises: 52,421 rows of premises_cell): from these indexes alone, which carry
-- every column it reads, rather than from the table's pages. That tile's statement 36.8 -> 25.8 ms;
-- zooms 10-12 uncached were the tiles over 50 ms at p95. Each write of a premises changes a cell's
-- count, so an update is no longer HOT: one more index entry per write, against reads of tens of
-- thousands of rows by every overview tile made again after it.
create index premises_cell_tile_idx on premises_cell (cx, cy)
  include (town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, n, sum_x, sum_y);
create index premises_cell8_tile_idx on premises_cell8 (cx, cy)
  include (town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, n, sum_x, sum_y);
