-- Rules every writer of hazards obeys (API, import, seed).

-- "Other, describe" items need their description; other items must not carry one.
create or replace function hazard_check_item() returns trigger language plpgsql as $$
declare
  needs boolean;
begin
  select needs_text into needs from hazard_item where code = new.item_code;
  if needs and (new.other_text is null or btrim(new.other_text) = '') then
    raise exception 'hazard item % needs a description of the hazard', new.item_code
      using errcode = '23514', constraint = 'hazard_other_text_required';
  end if;
  if not needs and new.other_text is not null then
    raise exception 'hazard item % takes no free text; choose an "other" item to describe a hazard', new.item_code
      using errcode = '23514', constraint = 'hazard_other_text_forbidden';
  end if;
  return new;
end $$;
create or replace trigger hazard_check_item_trg before insert or update of item_code, other_text on hazard
  for each row execute function hazard_check_item();

-- Status history: every step that gets a time gets an event, written by the database so that no
-- writer can forget it. The acting user comes from the transaction setting app.user_id
-- (app.writeTx). A bulk write switches it off and writes the events itself (the ledger import does).
create or replace function hazard_history() returns trigger language plpgsql as $$
declare
  actor int := nullif(current_setting('app.user_id', true), '')::int;
begin
  if tg_op = 'INSERT' then
    insert into hazard_event (hazard_id, status, at, user_id, department_code)
      values (new.id, 'found', new.found_at, actor, null);
  end if;
  if new.referred_at is not null and (tg_op = 'INSERT' or old.referred_at is null) then
    insert into hazard_event (hazard_id, status, at, user_id, department_code)
      values (new.id, 'referred', new.referred_at, actor, new.department_code);
  end if;
  if new.rectified_at is not null and (tg_op = 'INSERT' or old.rectified_at is null) then
    insert into hazard_event (hazard_id, status, at, user_id, department_code)
      values (new.id, 'rectified', new.rectified_at, actor, null);
  end if;
  if new.verified_at is not null and (tg_op = 'INSERT' or old.verified_at is null) then
    insert into hazard_event (hazard_id, status, at, user_id, department_code)
      values (new.id, 'verified', new.verified_at, actor, null);
  end if;
  return null;
end $$;
create or replace trigger hazard_history_trg after insert or update of referred_at, rectified_at, verified_at on hazard
  for each row when (not bulk_load_active()) execute function hazard_history();
