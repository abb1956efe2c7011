-- Attachment 4 (one key area's biweekly table) counts events inside the area by the local day they
-- happened: group rentals registered and deregistered, statements signed, second landlords recorded,
-- residents of group rentals and floating residents registered and deregistered, hazards found and
-- rectified (in group rentals by category, and every hazard of the area). Counted from the rows it
-- met every resident and hazard of the area (1.4-1.8 s at 1,000,000 premises). Kept here like the
-- preview's cells (migrations 036/037), in the same zoom-13 cells, towns and police stations:
--   premises_cell_event_source  each premises' events, one entry per event (its day and what it is)
--   premises_cell_event         per cell, town and station the events summed by day and kind
-- Attachment 4 reads the cells wholly inside the area from premises_cell_event and the premises of
-- the cells its boundary crosses from their own entries. Both are kept by the key-area cells'
-- statement triggers and refresh functions (server/db/functions/key-area-cells.sql), which also fill
-- them for a database that had premises before this migration.

-- What an event counts towards: the names are the biweekly tables' column keys
-- (server/plugins/app/reports-counts.ts); a hazard's name says whose hazards ('gr': in a group
-- rental, found once it was one; 'all': every other hazard of the area), what happened and its category.
create type report_event as enum (
  'grRegistered', 'grDeregistered', 'statementsSigned', 'secondLandlords',
  'grResidentsRegistered', 'grResidentsDeregistered', 'floatingRegistered', 'floatingDeregistered',
  'gr:found:public_security', 'gr:found:fire', 'gr:found:housing', 'gr:found:other',
  'gr:rectified:public_security', 'gr:rectified:fire', 'gr:rectified:housing', 'gr:rectified:other',
  'all:found:public_security', 'all:found:fire', 'all:found:housing', 'all:found:other',
  'all:rectified:public_security', 'all:rectified:fire', 'all:rectified:housing', 'all:rectified:other'
);

-- Two parallel arrays, not a row per event or an array of records: about 25 events a premises, 8
-- bytes each, instead of 100 bytes a record (1,000,000 premises).
create table premises_cell_event_source (
  premises_id        bigint primary key,
  cx                 int not null,
  cy                 int not null,
  town_id            int not null,
  police_station_id  int not null,    -- 0 when none
  days               date[] not null,
  events             report_event[] not null
);

-- One row per cell, town and station, its events by day and kind (days, events and counts in
-- step, ordered by day): a row a day would be about 12,000,000 rows at 1,000,000 premises, where
-- residents register on nearly as many days as there are residents.
create table premises_cell_event (
  cx                 int not null,
  cy                 int not null,
  town_id            int not null,
  police_station_id  int not null,
  days               date[] not null,
  events             report_event[] not null,
  counts             int[] not null,
  primary key (cx, cy, town_id, police_station_id)
);

-- The "of them" columns count flagged floating residents registered in a period: the flag carries
-- its person's premises point too (kept by server/db/functions/flags.sql), so that a key area finds
-- its flags by location, not through its residents.
alter table resident_flag add column geom geometry(Point, 4326);
update resident_flag f set geom = p.geom
from resident r join premises p on p.id = r.premises_id
where r.id = f.resident_id;
create index resident_flag_geom_idx on resident_flag using gist (geom);
