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

-- The access counter (table access_version, migration 045): the sessions the app keeps in memory
-- are good while it stands still. A session revoked, restored, shortened, moved back in time or
-- deleted bumps it, as does any change to an account; the touch of last_seen_at as a session is
-- used (forward in time) does not. Announced by versions.sql.
create or replace function bump_access_version() returns trigger language plpgsql as $$
begin
  update access_version set version = version + 1;
  return null;
end $$;
create or replace trigger user_session_access_trg after update on user_session
  for each row when (new.revoked_at is distinct from old.revoked_at or new.expires_at is distinct from old.expires_at
                     or new.last_seen_at < old.last_seen_at or new.user_id <> old.user_id or new.token_hash <> old.token_hash)
  execute function bump_access_version();
create or replace trigger user_session_access_gone_trg after delete or truncate on user_session
  for each statement execute function bump_access_version();
create or replace trigger app_user_access_trg after update or delete or truncate on app_user
  for each statement execute function bump_access_version();
