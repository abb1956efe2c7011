-- The tiles' pre-grouped cells of the premises with hazards, by the categories of their hazards
-- (issue 19: with a hazard-category filter an overview tile read its premises one by one, a zoom-10
-- tile 0.35-1.3 s at 1,000,000 premises, the legend's counts 0.3-0.6 s). The columns and key of
-- premises_cell (migration 006) and a mask of the categories a hazard was ever found of at the
-- premises (1 public security, 2 fire, 4 housing, 8 other: hazard_categories_mask); premises without
-- a hazard are not in them. The category filter ("a hazard of these categories found by the day")
-- is the mask's when every premises' categories were found by that day, which the index below
-- answers in one probe; for an earlier day the filter reads premises as before. Separate tables, so
-- that the unfiltered tiles read no more rows (the mask in premises_cell's key made it 44 % larger).
-- Kept like premises_cell and its larger cells: server/db/functions/tiles.sql.
create table premises_cat_cell (
  like premises_cell including constraints,
  categories smallint not null check (categories between 1 and 15),
  primary key (cx, cy, categories, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
);
create table premises_cat_cell2 (
  like premises_cat_cell including constraints,
  primary key (cx, cy, categories, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
);
create table premises_cat_cell8 (
  like premises_cat_cell including constraints,
  primary key (cx, cy, categories, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
);
-- A tile reads its columns of cells by the key; never a scan worth a worker's start.
alter table premises_cat_cell set (parallel_workers = 0);
alter table premises_cat_cell2 set (parallel_workers = 0);
alter table premises_cat_cell8 set (parallel_workers = 0);

-- The latest day a premises' first hazard of a category was found: its greatest is the day from
-- which the mask answers the category filter.
create index premises_categories_found_idx on premises
  ((greatest(first_public_security_found_on, first_fire_found_on, first_housing_found_on, first_other_found_on)));
