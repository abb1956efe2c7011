-- A counter for what decides whether a session cookie signs in (issue 19: a cached tile answered
-- with no database round trip): the app keeps the sessions it has looked up in memory under this
-- version, as tile and figure caches key on theirs (server/plugins/app/users.ts). It moves when
-- an account changes (role, jurisdiction, disabled, password, stamp) or goes, and when a session is
-- revoked, deleted, given another expiry, or seen earlier than before (a clock set back by hand).
-- A session merely seen again (last_seen_at moving on, once a minute per user) does not move it.
-- Its triggers are in server/db/functions/users.sql.
create table session_version (
  id      boolean primary key default true check (id),
  version bigint not null default 1
);
insert into session_version (id) values (true);
