-- Sign-in attempts counted atomically, and a stamp on each account for credentials that are
-- remembered between requests (HTTP Basic on /ogc).

-- The throttle now counts attempts when they start, not when they have failed: an attempt is
-- reserved by one upsert before its password is checked, so that parallel attempts cannot all pass
-- the check before any of them is counted. A count with no attempt for the lock period starts again.
alter table login_throttle rename column last_failure_at to last_attempt_at;
comment on column login_throttle.failures is 'attempts started since the last success, lock or quiet period (in flight or failed)';

-- Bumped by every change that must end what an account could do a moment ago: a new password, a
-- role or jurisdiction change, disabling, and ending all its sessions (done by the application).
alter table app_user add column auth_stamp int not null default 0;

create function app_user_bump_auth_stamp() returns trigger language plpgsql as $$
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

create trigger app_user_auth_stamp before update on app_user
  for each row execute function app_user_bump_auth_stamp();
