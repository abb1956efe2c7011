-- Saved views of the dashboard and the map: a name, the filters and the map's position, kept per
-- user. A view is the page's address in parts (its query string), so it never holds records or
-- people and needs no jurisdiction of its own: whoever opens it sees the view through their own
-- jurisdiction. A shared view is listed for every signed-in user; only its owner changes it.
create table saved_view (
  id          serial primary key,
  user_id     int not null references app_user(id),
  name        text not null check (length(btrim(name)) between 1 and 60),
  page        text not null check (page in ('dashboard', 'map')),
  query       jsonb not null check (jsonb_typeof(query) = 'object'),
  shared      boolean not null default false,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
-- One name per user and page: saving under a name already used is a mistake the form reports.
create unique index saved_view_name_idx on saved_view (user_id, page, lower(btrim(name)));
create index saved_view_shared_idx on saved_view (page) where shared;
