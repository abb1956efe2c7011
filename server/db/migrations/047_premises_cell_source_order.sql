-- The full sums of the key-area cells (premises_cell_days_from_source, premises_cell_events_from_source,
-- refresh_all_premises_block_days in server/db/functions/key-area-cells.sql) grouped some 10,000,000
-- unnested changes and 17,000,000 events in hash tables that spilled to disk, then sorted the groups
-- again for the running totals: 103 s of the seed's 485 at 1,000,000 premises. Read cell by cell
-- (block by block) through these indexes, each cell's rows are sorted on their own in memory and
-- grouped and totalled as they stream past: 35 + 16 + 19 s. The sources are laid out by cell, so
-- the cell indexes read the table in its own order.
create index premises_cell_day_source_cell_idx on premises_cell_day_source (cx, cy);
create index premises_cell_day_source_block_idx on premises_cell_day_source ((cx / 4), (cy / 4));
create index premises_cell_event_source_cell_idx on premises_cell_event_source (cx, cy);
