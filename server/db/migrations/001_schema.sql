-- The whole campaign's data model (DOMAIN.md). Forward-only: later changes go in new files.
-- Geometry is stored in WGS-84 (SRID 4326); metric work transforms on the fly.

create extension if not exists postgis;

-- ---------------------------------------------------------------------------------------------
-- Campaign: dates, phases and targets are data, so the next campaign needs no code change.
-- ---------------------------------------------------------------------------------------------
create table campaign (
  id          serial primary key,
  code        text not null unique,
  name_zh     text not null,
  name_en     text not null,
  starts_on   date not null,
  ends_on     date not null,
  -- Days of the month on which the biweekly tables are due (the notice: 14th and 29th).
  report_days smallint[] not null default '{14,29}',
  check (ends_on >= starts_on),
  check (cardinality(report_days) > 0 and 1 <= all(report_days) and 31 >= all(report_days))
);

create table campaign_phase (
  campaign_id int not null references campaign(id) on delete cascade,
  seq         smallint not null check (seq > 0),
  code        text not null check (code in ('mobilisation', 'remediation', 'consolidation')),
  name_zh     text not null,
  name_en     text not null,
  starts_on   date not null,
  ends_on     date not null,
  primary key (campaign_id, seq),
  unique (campaign_id, code),
  check (ends_on >= starts_on)
);

-- The four measures of DOMAIN.md. A null target means "tracked, no fixed target".
create table campaign_target (
  campaign_id int not null references campaign(id) on delete cascade,
  measure     text not null check (measure in
                ('group_rentals_registered', 'residents_registered', 'major_hazards_rectified', 'hazards_rectified')),
  target      numeric(5, 4) check (target is null or (target >= 0 and target <= 1)),
  primary key (campaign_id, measure)
);

-- ---------------------------------------------------------------------------------------------
-- Places. Areas carry a validity range so that a reorganisation (2020: Hehai merged into Sanjing)
-- adds rows instead of rewriting history. valid_to is exclusive; null means current.
-- ---------------------------------------------------------------------------------------------
create table admin_area (
  id         serial primary key,
  level      text not null check (level in ('district', 'town', 'community', 'grid')),
  -- town: 'town' (镇) or 'street' (街道); community: 'community' (社区) or 'village' (村)
  subkind    text check (subkind in ('town', 'street', 'community', 'village')),
  code       text not null,
  parent_id  int references admin_area(id),
  name_zh    text not null,
  name_en    text not null,
  valid_from date not null default '1900-01-01',
  valid_to   date,
  geom       geometry(MultiPolygon, 4326) not null,
  unique (code, valid_from),
  check (valid_to is null or valid_to > valid_from),
  check (st_isvalid(geom)),
  check ((level = 'district') = (parent_id is null))
);
create index admin_area_geom_idx on admin_area using gist (geom);
create index admin_area_parent_idx on admin_area (level, parent_id);

create table police_station (
  id         serial primary key,
  code       text not null,
  name_zh    text not null,
  name_en    text not null,
  valid_from date not null default '1900-01-01',
  valid_to   date,
  geom       geometry(MultiPolygon, 4326) not null,
  unique (code, valid_from),
  check (valid_to is null or valid_to > valid_from),
  check (st_isvalid(geom))
);
create index police_station_geom_idx on police_station using gist (geom);

-- Places where the notice says group rentals concentrate.
create table poi (
  id       serial primary key,
  kind     text not null check (kind in
             ('campus', 'factory', 'urban_village', 'urban_rural_fringe', 'resettlement_estate', 'underground_space')),
  name_zh  text not null,
  name_en  text not null,
  town_id  int references admin_area(id),
  geom     geometry(Point, 4326) not null,
  check (st_x(geom) between -180 and 180 and st_y(geom) between -90 and 90)
);
create index poi_geom_idx on poi using gist (geom);
create index poi_kind_idx on poi (kind);

-- ---------------------------------------------------------------------------------------------
-- Departments and the hazard dictionary (attachment 2 of the notice; rows in 002).
-- ---------------------------------------------------------------------------------------------
create table department (
  code    text primary key,
  name_zh text not null,
  name_en text not null,
  remit_en text not null
);

create table hazard_category (
  code            text primary key check (code in ('public_security', 'fire', 'housing', 'other')),
  seq             smallint not null unique,
  name_zh         text not null,
  name_en         text not null,
  department_code text not null references department(code)
);

create table hazard_item (
  code            text primary key check (code ~ '^(PS|FIRE|HOUSING|OTHER)-[0-9]{2}$'),
  category_code   text not null references hazard_category(code),
  seq             smallint not null,
  name_zh         text not null,
  name_en         text not null,
  -- "Other, describe": the hazard must carry free text.
  needs_text      boolean not null default false,
  -- Overrides the category's department where the notice names another one.
  department_code text references department(code),
  unique (category_code, seq)
);

-- ---------------------------------------------------------------------------------------------
-- Premises: every place where people live together.
-- ---------------------------------------------------------------------------------------------
create table premises (
  id                   bigserial primary key,
  -- 'rental' is an ordinary let dwelling (出租房屋): attachment 3 counts them, and a rental that meets
  -- the group-rental rule is "found but not registered".
  kind                 text not null check (kind in
                         ('group_rental', 'rental', 'homestay', 'family_hotel', 'factory_dormitory', 'care_home')),
  address              text not null check (length(address) between 1 and 300),
  geom                 geometry(Point, 4326) not null,
  town_id              int not null references admin_area(id),
  community_id         int references admin_area(id),
  grid_id              int references admin_area(id),
  police_station_id    int references police_station(id),
  rooms_let            int not null default 0 check (rooms_let >= 0),
  beds_let             int not null default 0 check (beds_let >= 0),
  occupants            int not null default 0 check (occupants >= 0),
  -- The group-rental rule of the notice: 10+ rooms let, or 10+ beds let, or 10+ people living there.
  meets_rule           boolean generated always as (rooms_let >= 10 or beds_let >= 10 or occupants >= 10) stored,
  owner_name           text,
  owner_phone          text,
  second_landlord_name  text,
  second_landlord_phone text,
  -- Date the second landlord's details were collected (counted in attachments 4 and 5).
  second_landlord_collected_on date,
  statement_signed_on  date,   -- 治安责任保证书; null = not signed
  lease_filed_on       date,   -- 备案 with the housing authority; null = not filed
  found_on             date not null,
  registered_on        date,   -- 登记 as a group rental (or as premises of its kind)
  deregistered_on      date,   -- 注销
  -- Hazard summary kept by trigger (hazard_summary_trg) so that the map colours a point without
  -- aggregating hazards per request; as-of-date views aggregate the hazards themselves.
  hazard_count         int not null default 0 check (hazard_count >= 0),
  open_count           int not null default 0 check (open_count >= 0),
  open_major_count     int not null default 0 check (open_major_count >= 0),
  open_min_deadline    date,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  check (st_x(geom) between -180 and 180 and st_y(geom) between -90 and 90),
  check (registered_on is null or registered_on >= found_on),
  check (deregistered_on is null or (registered_on is not null and deregistered_on >= registered_on)),
  check (second_landlord_collected_on is null or second_landlord_name is not null),
  check (open_count <= hazard_count and open_major_count <= open_count)
);
create index premises_geom_idx on premises using gist (geom);
create index premises_town_idx on premises (town_id);
create index premises_community_idx on premises (community_id);
create index premises_station_idx on premises (police_station_id);
create index premises_found_idx on premises (found_on);

-- Residents. ID numbers are stored encrypted with an HMAC for exact search and a masked form for
-- display; the plain number is never stored. Names and phones are shown only to permitted roles.
create table resident (
  id                bigserial primary key,
  premises_id       bigint not null references premises(id) on delete cascade,
  name              text not null check (length(name) between 1 and 100),
  id_type           text not null check (id_type in ('resident_id', 'passport', 'hk_macao_permit', 'taiwan_permit', 'other')),
  id_number_cipher  bytea not null,
  id_number_hmac    bytea not null,
  id_number_masked  text not null,
  phone             text,
  floating          boolean not null default true,
  moved_in_on       date not null,
  moved_out_on      date,
  -- 居住登记: residence declared to the police.
  registered_on     date,
  deregistered_on   date,
  check (moved_out_on is null or moved_out_on >= moved_in_on),
  check (registered_on is null or registered_on >= moved_in_on),
  check (deregistered_on is null or (registered_on is not null and deregistered_on >= registered_on))
);
create index resident_premises_idx on resident (premises_id);
create index resident_hmac_idx on resident (id_number_hmac);

-- The two special categories live apart from the resident row so that no ordinary query touches
-- them by accident (access rules in the access issue).
create table resident_flag (
  resident_id bigint not null references resident(id) on delete cascade,
  category    text not null check (category in ('mental_illness', 'person_of_concern')),
  flagged_on  date not null,
  cleared_on  date,
  primary key (resident_id, category),
  check (cleared_on is null or cleared_on >= flagged_on)
);

-- ---------------------------------------------------------------------------------------------
-- Hazards and their life: found > referred > rectified > verified.
-- ---------------------------------------------------------------------------------------------
create table hazard (
  id              bigserial primary key,
  premises_id     bigint not null references premises(id) on delete cascade,
  item_code       text not null references hazard_item(code),
  other_text      text check (other_text is null or length(other_text) between 1 and 500),
  severity        text not null check (severity in ('general', 'major')),
  status          text not null check (status in ('found', 'referred', 'rectified', 'verified')),
  department_code text not null references department(code),
  found_at        timestamptz not null,
  referred_at     timestamptz,
  rectified_at    timestamptz,
  verified_at     timestamptz,
  deadline        date,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  check (referred_at is null or referred_at >= found_at),
  check (rectified_at is null or rectified_at >= coalesce(referred_at, found_at)),
  check (verified_at is null or (rectified_at is not null and verified_at >= rectified_at)),
  check (deadline is null or deadline >= (found_at at time zone 'Asia/Shanghai')::date),
  -- The status is the furthest step reached, so it must agree with the times.
  check (case status
           when 'found'     then referred_at is null and rectified_at is null and verified_at is null
           when 'referred'  then referred_at is not null and rectified_at is null
           when 'rectified' then rectified_at is not null and verified_at is null
           when 'verified'  then verified_at is not null
         end)
);
create index hazard_premises_idx on hazard (premises_id);
create index hazard_found_idx on hazard (found_at);
create index hazard_item_idx on hazard (item_code);

create table hazard_event (
  id              bigserial primary key,
  hazard_id       bigint not null references hazard(id) on delete cascade,
  status          text not null check (status in ('found', 'referred', 'rectified', 'verified')),
  at              timestamptz not null,
  user_id         int,
  department_code text references department(code),
  note            text
);
create index hazard_event_hazard_idx on hazard_event (hazard_id, at);

-- ---------------------------------------------------------------------------------------------
-- Key areas (重点地区), listed for remediation with a deadline to clear hazards to zero.
-- ---------------------------------------------------------------------------------------------
create table key_area (
  id                  serial primary key,
  campaign_id         int not null references campaign(id),
  name_zh             text not null check (length(name_zh) between 1 and 100),
  name_en             text,
  town_id             int not null references admin_area(id),
  police_station_id   int references police_station(id),
  status              text not null default 'listed' check (status in ('draft', 'listed', 'cleared', 'delisted')),
  listed_on           date,
  deadline            date,
  commander_user_id   int,
  geom                geometry(MultiPolygon, 4326) not null,
  version             int not null default 1 check (version > 0),
  -- Attachment 3's counts the product does not hold, entered by hand.
  actual_population   int check (actual_population >= 0),
  floating_population int check (floating_population >= 0),
  mental_illness_count    int check (mental_illness_count >= 0),
  persons_of_concern_count int check (persons_of_concern_count >= 0),
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  deleted_at          timestamptz,
  check (st_isvalid(geom)),
  check (deadline is null or listed_on is null or deadline >= listed_on),
  check (status = 'draft' or listed_on is not null)
);
create index key_area_geom_idx on key_area using gist (geom);

create table key_area_version (
  key_area_id int not null references key_area(id) on delete cascade,
  version     int not null,
  geom        geometry(MultiPolygon, 4326) not null,
  attributes  jsonb not null,
  saved_at    timestamptz not null default now(),
  saved_by    int,
  primary key (key_area_id, version)
);

-- ---------------------------------------------------------------------------------------------
-- Enforcement results (attachments 4 and 5), each dated and placed.
-- ---------------------------------------------------------------------------------------------
create table enforcement_event (
  id                bigserial primary key,
  kind              text not null check (kind in (
                      'landlord_penalised', 'floating_person_penalised', 'criminal_case_solved',
                      'public_security_case_solved', 'fugitive_caught',
                      'arrest', 'criminal_coercive_measure', 'administrative_penalty')),
  occurred_on       date not null,
  -- Persons for penalties and measures, cases for cases solved.
  count             int not null default 1 check (count > 0),
  premises_id       bigint references premises(id) on delete set null,
  geom              geometry(Point, 4326) not null,
  town_id           int references admin_area(id),
  police_station_id int references police_station(id),
  note              text
);
create index enforcement_event_geom_idx on enforcement_event using gist (geom);
create index enforcement_event_date_idx on enforcement_event (occurred_on);

-- ---------------------------------------------------------------------------------------------
-- Users and the audit trail (filled by the access issue).
-- ---------------------------------------------------------------------------------------------
create table app_user (
  id                  serial primary key,
  username            text not null unique check (username ~ '^[a-z0-9_.-]{2,40}$'),
  display_name        text not null,
  password_hash       text not null,
  role                text not null check (role in ('leader', 'commander', 'analyst', 'inspector', 'admin')),
  jurisdiction_kind   text not null default 'district' check (jurisdiction_kind in ('district', 'town', 'police_station')),
  jurisdiction_town_id    int references admin_area(id),
  jurisdiction_station_id int references police_station(id),
  is_demo             boolean not null default false,
  disabled_at         timestamptz,
  failed_logins       int not null default 0 check (failed_logins >= 0),
  locked_until        timestamptz,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  check (case jurisdiction_kind
           when 'district' then jurisdiction_town_id is null and jurisdiction_station_id is null
           when 'town' then jurisdiction_town_id is not null and jurisdiction_station_id is null
           when 'police_station' then jurisdiction_station_id is not null and jurisdiction_town_id is null
         end)
);

alter table key_area add foreign key (commander_user_id) references app_user(id);
alter table hazard_event add foreign key (user_id) references app_user(id);

create table audit_log (
  id         bigserial primary key,
  at         timestamptz not null default clock_timestamp(),
  user_id    int references app_user(id),
  username   text,
  action     text not null,
  entity     text,
  entity_id  text,
  before     jsonb,
  after      jsonb,
  reason     text,
  ip         text,
  outcome    text not null default 'ok' check (outcome in ('ok', 'denied', 'failed'))
);
create index audit_log_at_idx on audit_log (at);
create index audit_log_entity_idx on audit_log (entity, entity_id);
create index audit_log_user_idx on audit_log (user_id, at);

-- Append-only: the database itself refuses to rewrite history.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = '42501';
end $$;
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();
