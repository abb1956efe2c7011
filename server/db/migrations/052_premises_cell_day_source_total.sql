-- The preview's edge (countsInside, server/plugins/app/key-areas-boundary.ts): the premises of the
-- cells a drawn boundary crosses, each tested against the boundary and its changes summed up to the
-- day. Each was read from its row, about 740 bytes with its changes, for every premises of every
-- crossed cell (3,215 of them for a 1 km² square in the densest town at 1,000,000 premises), half of
-- them outside. Each premises' changes are now also kept summed (`total`, day = its last change) and
-- the cell index carries what the edge needs, so that the premises of the crossed cells are tested and
-- summed from the index alone: only a premises with a change after the day asked (a move-out dated
-- ahead) is read from its row.

-- Written with the row by the triggers' refresh (functions/key-area-cells.sql) and by the seed's COPY
-- (server/seed/key-area-source.ts), from the same changes: a generated column made the set-up's COPY
-- call this function per row, 30 s more at 1,000,000 premises.
alter table premises_cell_day_source add column total cell_day_delta;
-- cell_day_total (functions/key-area-cells.sql) written out: the function files run after the migrations.
update premises_cell_day_source set total = (
  select row(coalesce(max(d.day), '-infinity'::date),
             coalesce(sum(d.houses), 0), coalesce(sum(d.rental_houses), 0), coalesce(sum(d.group_rentals), 0),
             coalesce(sum(d.group_rentals_with_hazards), 0), coalesce(sum(d.residents_registered), 0),
             coalesce(sum(d.hz_public_security), 0), coalesce(sum(d.hz_fire), 0), coalesce(sum(d.hz_housing), 0),
             coalesce(sum(d.hz_other), 0))::cell_day_delta
  from unnest(deltas) d);
alter table premises_cell_day_source alter column total set not null;

-- In place of the cell index of migration 047 (same key: the seed's sums read the table through it cell by cell).
drop index premises_cell_day_source_cell_idx;
create index premises_cell_day_source_cell_idx on premises_cell_day_source (cx, cy)
  include (town_id, police_station_id, premises_id, geom, total);
