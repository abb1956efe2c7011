-- Each premises' point beside its changes. The live preview (countsInside) reads the premises of
-- the cells a boundary crosses from this table by its cell index (migration 047), and fetched each
-- one's row from premises by id for its point alone: at 1,000,000 premises a 1 km² preview holds
-- about 2,000 of them, a quarter of its time. (Attachment 4 reads premises_cell_event_source, which
-- has no point; its crossed cells' premises still come from premises.) Written with the row (refresh_premises_cell_days,
-- refresh_all_premises_cell_days, the seed's COPY), as a moved premises' row is written again.
alter table premises_cell_day_source add column geom geometry(Point, 4326);
-- A row without its premises cannot be: every write of premises rewrites or deletes its row.
update premises_cell_day_source s set geom = p.geom from premises p where p.id = s.premises_id;
alter table premises_cell_day_source alter column geom set not null;
