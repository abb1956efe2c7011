-- The day each category's first hazard was found at a premises (local_day of its earliest found_at),
-- kept with the hazard summary (refresh_hazard_summaries, server/db/functions/premises.sql). The
-- map's category filter ("a hazard of these categories found by the day", premisesWhere) reads them
-- instead of looking up each premises' hazards: at 1,000,000 premises a zoom-12 tile filtered by a
-- category took 0.85-1.1 s, the legend's counts 1.7 s, nearly all of it probing hazards premises by
-- premises. The same rule, for every day: a hazard of the category was found by day d exactly when
-- the first was found on or before d. (The local day written out: the function files, local_day()
-- among them, are applied after the migrations.)
alter table premises
  add column first_public_security_found_on date,
  add column first_fire_found_on date,
  add column first_housing_found_on date,
  add column first_other_found_on date;

update premises p set
  first_public_security_found_on = s.ps, first_fire_found_on = s.fire,
  first_housing_found_on = s.housing, first_other_found_on = s.other
from (
  select h.premises_id,
         min((h.found_at at time zone 'Asia/Shanghai')::date) filter (where i.category_code = 'public_security') as ps,
         min((h.found_at at time zone 'Asia/Shanghai')::date) filter (where i.category_code = 'fire') as fire,
         min((h.found_at at time zone 'Asia/Shanghai')::date) filter (where i.category_code = 'housing') as housing,
         min((h.found_at at time zone 'Asia/Shanghai')::date) filter (where i.category_code = 'other') as other
  from hazard h join hazard_item i on i.code = h.item_code
  group by h.premises_id
) s
where p.id = s.premises_id;
