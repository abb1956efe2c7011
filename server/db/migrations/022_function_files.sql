-- Functions and triggers are defined where one file shows what runs today: server/db/functions/*.sql,
-- applied after the migrations (server/db/migrate.ts) whenever a migration ran or a file changed.
-- Each file's hash as last applied is kept here, so that a start with nothing to change only reads.
create table schema_function (
  file        text primary key,
  sha256      text not null,
  applied_at  timestamptz not null default now()
);
