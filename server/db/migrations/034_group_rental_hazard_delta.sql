-- Hazards in group rentals as daily changes, for attachment 5's 群租房管理情况 hazard columns: a
-- hazard counts when its premises is a found group rental (recorded as one, or a let dwelling
-- meeting the rule) and it was found on or after the day the premises became one. hazard_delta
-- cannot tell (it is keyed by kind, not by the rule or that day), and counting the hazard rows of a
-- whole district per table took a pass over every hazard. Kept by measure_apply_hazard (and the
-- import's set-wise form); refresh_measure_deltas rebuilds it (server/db/functions/measures.sql).
create table group_rental_hazard_delta (
  day                date not null,
  town_id            int not null,
  police_station_id  int not null,    -- 0 when none
  category_code      text not null,
  found              int not null default 0,
  rectified          int not null default 0,
  primary key (day, town_id, police_station_id, category_code)
);

insert into group_rental_hazard_delta (day, town_id, police_station_id, category_code, found, rectified)
with t as (
  select p.town_id, coalesce(p.police_station_id, 0) as ps, i.category_code as c,
         (h.found_at at time zone 'Asia/Shanghai')::date as f, (h.rectified_at at time zone 'Asia/Shanghai')::date as r
  from hazard h join premises p on p.id = h.premises_id join hazard_item i on i.code = h.item_code
  where (p.kind = 'group_rental' or (p.kind = 'rental' and p.meets_rule))
    and (p.group_rental_since is null or (h.found_at at time zone 'Asia/Shanghai')::date >= p.group_rental_since)
)
select day, town_id, ps, c, sum(fo), sum(re) from (
  select f as day, town_id, ps, c, 1 as fo, 0 as re from t
  union all select r, town_id, ps, c, 0, 1 from t where r is not null
) x group by 1, 2, 3, 4;
