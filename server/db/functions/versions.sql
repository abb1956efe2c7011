-- The data versions (data_version for the map's tiles, figures_version for the dashboard's figures, lead_version for the leads' layer,
-- session_version for the sessions the app keeps)
-- announced on channel grd_versions as '<table> <version>' (data_version's with its areas, below) when their transaction commits, so that
-- the app's caches know them without asking: PostgreSQL delivers the notification to the app's
-- listening connection, the embedded database to the process itself (server/db/index.ts).
-- A row trigger on the counters themselves, so that a writer which bumps one by hand (an import's
-- merge with the other triggers off) announces it as well.
-- data_version's announcement carries where the version changed the map (data_change, functions/tiles.sql):
-- '<version> <area> <area> ...', or '<version> *' for everywhere (a bump by hand, too many areas);
-- figures_version's which towns it changed (figures_change, functions/figures.sql) alike.
create or replace function notify_version() returns trigger language plpgsql as $$
begin
  perform pg_notify('grd_versions', tg_table_name || ' ' || new.version || case
    when tg_table_name = 'data_version' then
      ' ' || coalesce((select array_to_string(c.areas, ' ') from data_change c where c.version = new.version and c.areas is not null), '*')
    when tg_table_name = 'figures_version' then
      ' ' || coalesce((select array_to_string(c.towns, ' ') from figures_change c where c.version = new.version and c.towns is not null), '*')
    else '' end);
  return null;
end $$;
create or replace trigger data_version_notify_trg after update on data_version
  for each row execute function notify_version();
create or replace trigger figures_version_notify_trg after update on figures_version
  for each row execute function notify_version();
create or replace trigger lead_version_notify_trg after update on lead_version
  for each row execute function notify_version();
create or replace trigger session_version_notify_trg after update on session_version
  for each row execute function notify_version();
