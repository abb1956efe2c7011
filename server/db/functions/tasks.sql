-- A photo or a task of a hazard belongs to the hazard's premises, whatever the writer said: the
-- premises carries the jurisdiction that every read of them filters on.
create or replace function premises_of_hazard() returns trigger language plpgsql as $$
begin
  if new.hazard_id is not null then
    select h.premises_id into strict new.premises_id from hazard h where h.id = new.hazard_id;
  end if;
  return new;
exception when no_data_found then
  raise exception 'there is no hazard with id %', new.hazard_id using errcode = '23503';
end $$;
create or replace trigger photo_premises_of_hazard before insert or update of hazard_id, premises_id on photo
  for each row execute function premises_of_hazard();
create or replace trigger task_premises_of_hazard before insert or update of hazard_id, premises_id on task
  for each row execute function premises_of_hazard();
