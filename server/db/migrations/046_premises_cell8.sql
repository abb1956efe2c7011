-- The tiles' pre-grouped cells (premises_cell, migration 006) again, eight by eight (issue 19: a
-- zoom-10 or zoom-11 tile read every zoom-13 cell row of its area, the whole district's 368,515 at
-- 1,000,000 premises, 85-124 ms as bare SQL). Same key columns and sums; cx and cy are premises_cell's
-- cx / 8 and cy / 8. Triggers on premises_cell keep it equal to premises_cell grouped so, whoever
-- writes the cells (the premises' row trigger, an import's set-wise bookkeeping, a refresh); they
-- are in server/db/functions/tiles.sql, which fills it for a database that had cells before.
create table premises_cell8 (
  cx                 int not null,
  cy                 int not null,
  town_id            int not null,
  police_station_id  int not null,
  kind               text not null,
  has_hazard         boolean not null,
  has_open           boolean not null,
  has_open_major     boolean not null,
  open_min_deadline  date not null,
  n                  int not null check (n >= 0),
  sum_x              double precision not null,
  sum_y              double precision not null,
  primary key (cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline)
);
-- Read whole for a zoom-10 tile (about half of it at 1,000,000 premises, 26 ms alone), where a
-- parallel scan's workers took longer to start than the scan: 55-90 ms.
alter table premises_cell8 set (parallel_workers = 0);
