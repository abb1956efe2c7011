-- A flag's copy of its person's floating, registered_on and premises' town, police station (migration
-- 035) and point (migration 040): set when the flag is written, followed when the person or the
-- premises changes.
-- Not switched off by a bulk load: a flag is written one at a time, and people and premises change
-- these columns rarely (the WHEN clauses keep the triggers off every other write).
create or replace function resident_flag_place() returns trigger language plpgsql as $$
begin
  select r.floating, r.registered_on, p.town_id, p.police_station_id, p.geom
    into new.floating, new.registered_on, new.town_id, new.police_station_id, new.geom
  from resident r join premises p on p.id = r.premises_id
  where r.id = new.resident_id;
  return new;
end $$;
create or replace trigger resident_flag_place_trg before insert or update of resident_id on resident_flag
  for each row execute function resident_flag_place();

create or replace function resident_flag_follow_resident() returns trigger language plpgsql as $$
begin
  update resident_flag f set floating = new.floating, registered_on = new.registered_on, town_id = p.town_id, police_station_id = p.police_station_id,
    geom = p.geom
  from premises p
  where p.id = new.premises_id and f.resident_id = new.id;
  return null;
end $$;
create or replace trigger resident_flag_follow_resident_trg after update of floating, registered_on, premises_id on resident
  for each row when ((old.floating, old.registered_on, old.premises_id) is distinct from (new.floating, new.registered_on, new.premises_id))
  execute function resident_flag_follow_resident();

create or replace function resident_flag_follow_premises() returns trigger language plpgsql as $$
begin
  update resident_flag f set town_id = new.town_id, police_station_id = new.police_station_id, geom = new.geom
  from resident r
  where r.premises_id = new.id and f.resident_id = r.id;
  return null;
end $$;
create or replace trigger resident_flag_follow_premises_trg after update of town_id, police_station_id, geom on premises
  for each row when ((old.town_id, old.police_station_id, old.geom) is distinct from (new.town_id, new.police_station_id, new.geom))
  execute function resident_flag_follow_premises();
