-- Finding the group rentals nobody has registered (issue 16): utility readings per meter account,
-- matched to premises; signals per premises or address; a score with reasons; leads that
-- inspectors visit and whose outcomes train the next model.

-- ---------------------------------------------------------------------------------------------
-- How a premises came to be known. Existing rows were found by the door-to-door inspections,
-- except those that arrived with a ledger reference.
-- ---------------------------------------------------------------------------------------------
alter table premises add column discovery_method text not null default 'patrol'
  check (discovery_method in ('patrol', 'ledger_import', 'data_analysis', 'report', 'other'));

-- A new column's value is not a change of the premises: its updated_at stays as it was.
alter table premises disable trigger premises_touch_trg;
update premises set discovery_method = 'ledger_import' where external_ref is not null;
alter table premises enable trigger premises_touch_trg;

-- A premises that arrives with a ledger reference came from a ledger, whichever importer wrote it.
create function premises_discovery_from_ledger() returns trigger language plpgsql as $$
begin
  if new.external_ref is not null and new.discovery_method = 'patrol' then
    new.discovery_method := 'ledger_import';
  end if;
  return new;
end $$;
create trigger premises_discovery_trg before insert on premises
  for each row execute function premises_discovery_from_ledger();

-- ---------------------------------------------------------------------------------------------
-- Addresses as a key for matching: the same text however a utility or a ledger wrote it —
-- full-width digits and letters, spaces, punctuation, the province/city/district prefix,
-- 栋/座 for 幢. Immutable, so premises get an index on it.
-- ---------------------------------------------------------------------------------------------
create function address_key(a text) returns text language sql immutable parallel safe as $$
  select nullif(
    regexp_replace(
      regexp_replace(
        translate(lower(normalize(coalesce(a, ''), NFKC)), '栋座號', '幢幢号'),
        '^\s*(江苏省|江苏)?\s*(常州市|常州)?\s*(新北区|常州国家高新区|国家高新区)?', ''),
      '[[:space:][:punct:]，。、；：（）【】《》“”‘’·・　]', '', 'g'),
    '')
$$;
create index premises_address_key_idx on premises (address_key(address));

-- ---------------------------------------------------------------------------------------------
-- Rest days beyond the weekend, from the State Council's holiday notices: holidays, the Spring
-- Festival (when migrant workers go home) and weekend days made working days (调休). Data, not
-- code, so that a later year is a row insert.
-- ---------------------------------------------------------------------------------------------
create table calendar_day (
  day  date primary key,
  kind text not null check (kind in ('holiday', 'spring_festival', 'workday'))
);
insert into calendar_day (day, kind)
select d::date, k from (values
  ('2019-01-01', '2019-01-01', 'holiday'), ('2019-02-04', '2019-02-10', 'spring_festival'),
  ('2019-02-02', '2019-02-03', 'workday'), ('2019-04-05', '2019-04-07', 'holiday'),
  ('2019-05-01', '2019-05-04', 'holiday'), ('2019-04-28', '2019-04-28', 'workday'), ('2019-05-05', '2019-05-05', 'workday'),
  ('2019-06-07', '2019-06-09', 'holiday'), ('2019-09-13', '2019-09-15', 'holiday'),
  ('2019-10-01', '2019-10-07', 'holiday'), ('2019-09-29', '2019-09-29', 'workday'), ('2019-10-12', '2019-10-12', 'workday'),
  ('2020-01-01', '2020-01-01', 'holiday'), ('2020-01-24', '2020-02-02', 'spring_festival'), ('2020-01-19', '2020-01-19', 'workday'),
  ('2020-04-04', '2020-04-06', 'holiday'),
  ('2020-05-01', '2020-05-05', 'holiday'), ('2020-04-26', '2020-04-26', 'workday'), ('2020-05-09', '2020-05-09', 'workday'),
  ('2020-06-25', '2020-06-27', 'holiday'), ('2020-06-28', '2020-06-28', 'workday'),
  ('2020-10-01', '2020-10-08', 'holiday'), ('2020-09-27', '2020-09-27', 'workday'), ('2020-10-10', '2020-10-10', 'workday'),
  ('2021-01-01', '2021-01-03', 'holiday'), ('2021-02-11', '2021-02-17', 'spring_festival'),
  ('2021-02-07', '2021-02-07', 'workday'), ('2021-02-20', '2021-02-20', 'workday'),
  ('2021-04-03', '2021-04-05', 'holiday'),
  ('2021-05-01', '2021-05-05', 'holiday'), ('2021-04-25', '2021-04-25', 'workday'), ('2021-05-08', '2021-05-08', 'workday'),
  ('2021-06-12', '2021-06-14', 'holiday'), ('2021-09-19', '2021-09-21', 'holiday'), ('2021-09-18', '2021-09-18', 'workday'),
  ('2021-10-01', '2021-10-07', 'holiday'), ('2021-09-26', '2021-09-26', 'workday'), ('2021-10-09', '2021-10-09', 'workday')
) as v(f, t, k), generate_series(f::date, t::date, interval '1 day') as d;

-- Whether a day is a rest day: a weekend not made a working day, or a holiday.
create function is_rest_day(d date) returns boolean language sql stable parallel safe as $$
  select coalesce((select kind <> 'workday' from calendar_day where day = d), extract(isodow from d) >= 6)
$$;

-- ---------------------------------------------------------------------------------------------
-- Meter accounts and their readings. Amounts are whole hundredths of the utility's unit (kWh,
-- m³): integers parse several times faster than floats, which matters for millions of daily
-- values, and keep sums exact.
-- ---------------------------------------------------------------------------------------------
create table meter_account (
  id                bigserial primary key,
  utility           text not null check (utility in ('electricity', 'water', 'gas')),
  account_no        text not null check (length(account_no) between 1 and 64),
  -- The account holder (户名) is personal data: only the roles that see people are shown it.
  holder_name       text check (holder_name is null or length(holder_name) between 1 and 100),
  address           text check (address is null or length(address) between 1 and 300),
  premises_ref      text check (premises_ref is null or length(premises_ref) between 1 and 100),
  geom              geometry(Point, 4326),
  town_id           int references admin_area(id),
  community_id      int references admin_area(id),
  police_station_id int references police_station(id),
  premises_id       bigint references premises(id) on delete set null,
  match_method      text check (match_method in ('ref', 'address', 'distance', 'visit')),
  match_distance_m  real,
  -- Why no premises: none at the address or near the point, or no address nor point to go by.
  unmatched_reason  text check (unmatched_reason in ('no-premises', 'no-location')),
  -- Accounts matched to no premises are grouped into sites (an address, or a point): one lead each.
  site_key          text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  unique (utility, account_no),
  check ((premises_id is null) = (match_method is null)),
  check (premises_id is null or unmatched_reason is null)
);
create index meter_account_premises_idx on meter_account (premises_id);
create index meter_account_geom_idx on meter_account using gist (geom);
create index meter_account_address_idx on meter_account (address_key(address));
create index meter_account_site_idx on meter_account (site_key) where site_key is not null;

-- One row per account and calendar month: daily values (index 1 = the 1st), the night
-- (valley-tariff) part of each day, 24 hourly values per day where a district has them, and the
-- month's total (for monthly bills the reading itself).
create table meter_reading (
  account_id bigint not null references meter_account(id) on delete cascade,
  month      date not null check (extract(day from month) = 1),
  daily      int[],
  night      int[],
  hourly     int[],
  total      bigint not null check (total >= 0),
  primary key (account_id, month)
);

-- What an import has read and checked, until it is committed or discarded (not the app's data:
-- unlogged, and emptied by the import itself).
create unlogged table reading_stage (
  job         uuid not null,
  line        int not null,
  account_no  text not null,
  period      date not null,
  granularity char(1) not null check (granularity in ('h', 'd', 'm')),
  hour        smallint check (hour between 0 and 23),
  value       bigint not null,
  night       bigint,
  is_index    boolean not null default false
);
create index reading_stage_job_idx on reading_stage (job, account_no, period, hour);

create unlogged table reading_account_stage (
  job          uuid not null,
  line         int not null,
  account_no   text not null,
  holder_name  text,
  address      text,
  premises_ref text,
  lon          float8,
  lat          float8,
  primary key (job, account_no)
);

-- How each account of an import matches premises, as the last check found it.
create unlogged table reading_match (
  job               uuid not null,
  account_no        text not null,
  premises_id       bigint,
  method            text,
  distance_m        real,
  -- Premises it could be when it is ambiguous, or the ref that names none.
  candidates        bigint[],
  problem           text check (problem in ('ambiguous', 'unknown-ref', 'outside-district', 'outside-jurisdiction')),
  unmatched_reason  text,
  geom              geometry(Point, 4326),
  town_id           int,
  community_id      int,
  police_station_id int,
  primary key (job, account_no)
);

-- Per account, what its readings say (recomputed from meter_reading, set-wise).
create table meter_stat (
  account_id     bigint primary key references meter_account(id) on delete cascade,
  utility        text not null,
  days           int not null,
  months         int not null,
  mean_daily     real,
  rest_ratio     real,
  night_share    real,
  peak_valley    real,
  seasonal_swing real,
  holiday_dip    real,
  computed_at    timestamptz not null default now()
);

-- ---------------------------------------------------------------------------------------------
-- Models: the rules (version 0, in code) or a logistic regression trained on visit outcomes.
-- ---------------------------------------------------------------------------------------------
create table lead_model (
  version    serial primary key check (version > 0),
  kind       text not null check (kind in ('logistic_regression')),
  features   text[] not null,
  -- { bias, weights: { feature: weight } } and the library's own model as it saved it.
  model      jsonb not null,
  -- What it was trained on: the leads and their labels, counts, and how well it fits them.
  training   jsonb not null,
  trained_at timestamptz not null default now(),
  trained_by int references app_user(id),
  active     boolean not null default false
);
create unique index lead_model_active_idx on lead_model (active) where active;

-- ---------------------------------------------------------------------------------------------
-- Leads: one per candidate — a premises not registered as a group rental, or an address whose
-- meters match no premises — with its current score and its work: issued, assigned, visited.
-- ---------------------------------------------------------------------------------------------
create table lead (
  id                  bigserial primary key,
  premises_id         bigint unique references premises(id) on delete cascade,
  -- An address without premises: the accounts' address key (or their point's when none).
  site_key            text unique,
  address             text not null,
  geom                geometry(Point, 4326) not null,
  town_id             int not null references admin_area(id),
  community_id        int references admin_area(id),
  police_station_id   int references police_station(id),
  features            jsonb not null default '{}',
  score               real not null default 0 check (score between 0 and 1),
  band                text not null default 'D' check (band in ('A', 'B', 'C', 'D')),
  reasons             jsonb not null default '[]',
  model_version       int not null default 0,
  scored_at           timestamptz,
  -- Still a candidate at the last scoring (a premises registered meanwhile is no longer one).
  candidate           boolean not null default true,
  status              text not null default 'new' check (status in ('new', 'open', 'assigned', 'visited')),
  issued_at           timestamptz,
  issued_by           int references app_user(id),
  -- The score as it was when issued: precision by band is judged on what the inspectors were given.
  issued_score        real,
  issued_band         text check (issued_band in ('A', 'B', 'C', 'D')),
  issued_model        int,
  issued_features     jsonb,
  assigned_to         int references app_user(id),
  assigned_at         timestamptz,
  -- The inspection task the lead became (premises leads; an address has no premises to visit yet).
  task_id             bigint references task(id) on delete set null,
  outcome             text check (outcome in ('group_rental', 'other_rental', 'not_rental', 'no_access')),
  outcome_on          date,
  attempts            int not null default 0 check (attempts >= 0),
  -- The premises registered (or found to be of another kind) at the visit.
  result_premises_id  bigint references premises(id) on delete set null,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  check ((premises_id is null) <> (site_key is null)),
  check (status = 'new' or (issued_at is not null and issued_score is not null)),
  check (status <> 'assigned' or assigned_to is not null),
  check (status <> 'visited' or outcome in ('group_rental', 'other_rental', 'not_rental'))
);
create index lead_geom_idx on lead using gist (geom);
create index lead_town_idx on lead (town_id, score desc);
create index lead_station_idx on lead (police_station_id);
create index lead_rank_idx on lead (score desc, id) where candidate;
create trigger lead_touch_trg before update on lead for each row execute function touch_updated_at();

create table lead_visit (
  id          bigserial primary key,
  lead_id     bigint not null references lead(id) on delete cascade,
  outcome     text not null check (outcome in ('group_rental', 'other_rental', 'not_rental', 'no_access')),
  visited_on  date not null,
  user_id     int references app_user(id),
  premises_id bigint references premises(id) on delete set null,
  rooms_let   int check (rooms_let >= 0),
  beds_let    int check (beds_let >= 0),
  occupants   int check (occupants >= 0),
  note        text check (note is null or length(note) <= 500),
  created_at  timestamptz not null default now()
);
create index lead_visit_lead_idx on lead_visit (lead_id, id);
