-- A counter for who may do what, which the sessions the app keeps in memory key on, as the tiles key
-- on data_version: bumped (server/db/functions/users.sql) when a session is revoked, shortened or
-- deleted and when an account changes, and announced like the other counters, so that every
-- process reads such a session again at its next request instead of one lookup per request.
create table access_version (
  id      boolean primary key default true check (id),
  version bigint not null default 1
);
insert into access_version (id) values (true);
