-- Which towns each new figures version changed (the dashboard's figures, migration 027): the towns
-- of the premises a statement wrote (before and after a move), of the residents' or hazards'
-- premises, or the towns of the daily-change rows it wrote; null when it changed more than towns
-- (the dictionary, the areas, the campaign, a bump by hand): everything counts as changed. Figures
-- are kept per town at its town's version (server/plugins/app/versions.ts), so an inspector's write
-- in one town leaves the other towns' parts of the district's figures kept. Written by
-- record_figures_change() (functions/figures.sql), announced with the version; kept for the last
-- 10,000 versions, for a process that missed announcements.
create table figures_change (
  version bigint primary key,
  towns   int[]
);

-- A town's part of the figures reads its own rows: the daily changes up to a day, and the cells
-- eight by eight (the legend's counts), by town first.
create index measure_delta_town_idx on measure_delta (town_id, day);
create index hazard_delta_town_idx on hazard_delta (town_id, day);
create index premises_cell8_town_idx on premises_cell8 (town_id);
