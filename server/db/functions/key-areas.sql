-- The day a key area was cleared to zero (attachment 5 counts key areas cleared in a period).
-- Kept by trigger: set when the status becomes 'cleared' (today in the district unless the writer
-- gave a date), removed when it leaves 'cleared'.
create or replace function key_area_cleared_on() returns trigger language plpgsql as $$
begin
  if new.status = 'cleared' then
    if tg_op = 'INSERT' or old.status <> 'cleared' then
      new.cleared_on := coalesce(new.cleared_on, local_day(now()));
    end if;
  else
    new.cleared_on := null;
  end if;
  return new;
end $$;
create or replace trigger key_area_cleared_on_trg before insert or update of status, cleared_on on key_area
  for each row execute function key_area_cleared_on();
