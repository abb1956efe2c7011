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

-- The session version (migration 045), which the sessions the app keeps in memory are kept under:
-- moved by a change to an account or its going, and by a session revoked, deleted, given another
-- expiry or seen earlier than before; not by a session merely seen again.
create or replace function bump_session_version() returns trigger language plpgsql as $$
begin
  update session_version set version = version + 1;
  return null;
end $$;
create or replace trigger app_user_session_version_trg after update or delete or truncate on app_user
  for each statement execute function bump_session_version();
create or replace trigger user_session_gone_trg after delete or truncate on user_session
  for each statement execute function bump_session_version();
create or replace trigger user_session_changed_trg after update on user_session
  for each row when (old.revoked_at is distinct from new.revoked_at or old.expires_at is distinct from new.expires_at
    or new.last_seen_at < old.last_seen_at or old.user_id <> new.user_id or old.token_hash <> new.token_hash)
  execute function bump_session_version();
