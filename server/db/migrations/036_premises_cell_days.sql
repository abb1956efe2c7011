-- What a drawn key area holds on a day (attachment 3's figures, countsInside in
-- server/plugins/app/key-areas-boundary.ts), pre-grouped by the tiles' zoom-13 cells (premises_cell,
-- migration 006) as daily changes: "on day D" is a sum over days <= D. The preview then reads the
-- cells lying wholly inside the polygon from here and counts exact points only in the cells its
-- boundary crosses, instead of every premises, resident and hazard inside (seconds at a million).
--
-- Interval counts, +1 on the day something starts to count and -1 on the day it stops, each clipped
-- to the premises' own [found_on, deregistered_on):
--   houses, rental_houses, group_rentals   the premises (let dwellings / group rental candidates)
--   residents_registered                   from the latest of moved in, registered, found; until moved out
--   hz_<category>                          a hazard, from the local day found until the local day rectified
--   group_rentals_with_hazards             a group rental candidate while at least one hazard is open
--                                          (the union of its hazards' intervals)
--
-- Kept exact per premises: premises_cell_day_source holds what each premises added, so that any
-- change to a premises, its residents or its hazards takes that away and adds what it brings now
-- (refresh_premises_cell_days). The functions, and the statement triggers that collect the premises
-- touched, are in server/db/functions/key-area-cells.sql, which also fills the tables of a database
-- that had premises before this migration; bulk writers (the seed, an import's merge) call the
-- refresh functions themselves. The local day is Asia/Shanghai's, as local_day() has it.

create type cell_day_delta as (
  day date, houses int, rental_houses int, group_rentals int, group_rentals_with_hazards int,
  residents_registered int, hz_public_security int, hz_fire int, hz_housing int, hz_other int
);

create table premises_cell_day (
  cx                          int not null,
  cy                          int not null,
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
  primary key (cx, cy, town_id, police_station_id, day)
);

create table premises_cell_day_source (
  premises_id        bigint primary key,
  cx                 int not null,
  cy                 int not null,
  town_id            int not null,
  police_station_id  int not null,
  deltas             cell_day_delta[] not null
);
