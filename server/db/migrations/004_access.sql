-- Sign-in, sessions and settings (the access issue). Users and the audit log are in 001.

-- Server-side sessions: the cookie carries a random token; only its SHA-256 is stored, so a copy
-- of this table cannot be used to sign in.
create table user_session (
  id            bigserial primary key,
  token_hash    bytea not null unique,
  user_id       int not null references app_user(id) on delete cascade,
  created_at    timestamptz not null default now(),
  last_seen_at  timestamptz not null default now(),
  expires_at    timestamptz not null,
  revoked_at    timestamptz,
  ip            text,
  user_agent    text,
  check (expires_at > created_at)
);
create index user_session_user_idx on user_session (user_id);

-- Failed sign-ins per user name, whether or not the name exists, so that the answers do not tell
-- which names are real.
create table login_throttle (
  username      text primary key,
  failures      int not null default 0 check (failures >= 0),
  last_failure_at timestamptz,
  locked_until  timestamptz
);

-- Settings of this installation. demo_mode is written only by the demo seed: demo users exist
-- only where it is true.
create table app_setting (
  key   text primary key,
  value jsonb not null
);

alter table app_user drop column failed_logins;
alter table app_user drop column locked_until;
alter table app_user add column password_changed_at timestamptz not null default now();
alter table app_user add column created_by int references app_user(id);
alter table audit_log add column request_id text;
