-- The key-area cells (migration 036) hold, per cell, town and police station, the running total on
-- each day a figure changed, not the change itself: "on day D" is then the one row of each group at
-- or before D instead of a sum over every earlier day (133 rows a cell at a million premises, 2.7 s
-- cold for a 4 km² square). premises_cell_day_source still holds each premises' own changes.
-- (The functions that keep both are in server/db/functions/key-area-cells.sql.)
comment on table premises_cell_day is
  'Key-area cells: per zoom-13 cell, town and police station, the running totals of the preview''s figures on each day one changed';
