-- An account's stamp is bumped by every change that must end what it could do a moment ago: a new
-- password, a role or jurisdiction change, disabling (and, by the application, ending all its
-- sessions). Credentials remembered between requests (HTTP Basic on /ogc) are checked against it.
create or replace function app_user_bump_auth_stamp() returns trigger language plpgsql as $$
begin
  if new.password_hash is distinct from old.password_hash
     or new.role is distinct from old.role
     or new.jurisdiction_kind is distinct from old.jurisdiction_kind
     or new.jurisdiction_town_id is distinct from old.jurisdiction_town_id
     or new.jurisdiction_station_id is distinct from old.jurisdiction_station_id
     or new.disabled_at is distinct from old.disabled_at then
    new.auth_stamp := old.auth_stamp + 1;
  end if;
  return new;
end $$;
create or replace trigger app_user_auth_stamp before update on app_user
  for each row execute function app_user_bump_auth_stamp();
