-- Leads at a million premises (issue 16's benchmark).
--
-- The norms a refresh compares each lead's use with (medians of the candidates of the same
-- community and size, town and size, community, town, district), kept between the statements of
-- one refresh: they are computed in one read, then written into the leads a range at a time, each
-- range its own short transaction, instead of one update holding every lead's row for the length
-- of a district-wide statement. Derived data, rewritten by every refresh.
create table lead_norm (
  -- 'community_size', 'town_size', 'community', 'town' or 'district'.
  level        text not null check (level in ('community_size', 'town_size', 'community', 'town', 'district')),
  community_id int,
  town_id      int,
  size         text,
  e            float8,
  ne           int not null,
  w            float8,
  nw           int not null,
  g            float8,
  ng           int not null
);
create index lead_norm_key_idx on lead_norm (level, community_id, town_id, size);

-- A counter that moves on every write to the leads, which the leads' map layer is cached under (as
-- tiles are under data_version): a lead's score, band or status changes no premises tile and no
-- dashboard figure, and a premises edit changes no lead until the next refresh. Bumped by a
-- statement trigger on lead and announced at commit (server/db/functions/leads.sql, versions.sql).
create table lead_version (
  id      boolean primary key default true check (id),
  version bigint not null default 1
);
insert into lead_version (id) values (true);

-- The list of a police station's or a community's leads, ranked: read in the index's order and
-- stopped at the page, as the town's (lead_town_idx) and the district's (lead_rank_idx) are, rather
-- than every lead of the station sorted (tens of thousands at a million premises). The status is
-- carried along, and the district and each town get an index of their own by status, so that the
-- list's total is counted from the index alone once vacuum has marked the pages (0.53 s -> 26 ms
-- for a town of 86,000 leads at a million premises) instead of from every row of the table.
create index lead_station_rank_idx on lead (police_station_id, score desc, id) include (status) where candidate;
create index lead_community_rank_idx on lead (community_id, score desc, id) include (status) where candidate;
create index lead_town_status_idx on lead (town_id, status) where candidate;
create index lead_status_idx on lead (status) where candidate;
