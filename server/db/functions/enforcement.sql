-- Enforcement results (migration 025): voided with a reason, never deleted, so that what was
-- counted and why it no longer is can be read back.
create or replace function enforcement_event_no_delete() returns trigger language plpgsql as $$
begin
  raise exception 'an enforcement record is voided with a reason, never deleted' using errcode = '42501';
end $$;
create or replace trigger enforcement_event_no_delete_trg before delete on enforcement_event
  for each row execute function enforcement_event_no_delete();
