-- A flag carries what attachment 5 asks of its person: floating or not, the day registered, and the
-- town and police station of the premises. The table's flagged people were otherwise met one by one
-- in the residents (tens of thousands of lookups into millions of rows, over a second at 1,000,000
-- premises). Kept by the triggers in server/db/functions/flags.sql.
alter table resident_flag
  add column floating           boolean,
  add column registered_on      date,
  add column town_id            int,
  add column police_station_id  int;

update resident_flag f set floating = r.floating, registered_on = r.registered_on, town_id = p.town_id, police_station_id = p.police_station_id
from resident r join premises p on p.id = r.premises_id
where r.id = f.resident_id;
