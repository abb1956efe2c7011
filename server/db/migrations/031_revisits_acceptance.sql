-- Checks by higher levels (明察暗访) and the close of key areas (检查验收 / 摘牌), section five of the notice.

-- ---------------------------------------------------------------------------------------------
-- A revisit sample: rectified hazards or registered group rentals drawn at random, reproducibly
-- (the same seed over the same population draws the same records), within the drawer's
-- jurisdiction and optionally one town. population is how many records it was drawn from.
-- ---------------------------------------------------------------------------------------------
create table revisit_sample (
  id            bigserial primary key,
  campaign_id   int not null references campaign(id),
  subject       text not null check (subject in ('hazard', 'premises')),
  town_id       int references admin_area(id),
  proportion    numeric(5, 4) check (proportion is null or (proportion > 0 and proportion <= 1)),
  size          int not null check (size > 0),
  population    int not null check (population >= size),
  seed          text not null check (length(seed) between 1 and 100),
  drawn_on      date not null,
  drawn_by      int not null references app_user(id),
  created_at    timestamptz not null default now()
);

-- One record of a sample and what the revisit found: still rectified (or registered as it
-- says), relapsed (the hazard is back: it is reopened, its history kept), or the record is wrong.
create table revisit_item (
  id                 bigserial primary key,
  sample_id          bigint not null references revisit_sample(id) on delete cascade,
  hazard_id          bigint references hazard(id) on delete cascade,
  premises_id        bigint not null references premises(id) on delete cascade,
  town_id            int not null references admin_area(id),
  police_station_id  int references police_station(id),
  -- The department answerable for a hazard's rectification, kept as it was when drawn.
  department_code    text references department(code),
  outcome            text check (outcome in ('still_rectified', 'relapsed', 'record_wrong')),
  note               text check (note is null or length(note) between 1 and 500),
  outcome_by         int references app_user(id),
  outcome_at         timestamptz,
  check ((outcome is null) = (outcome_at is null)),
  check ((outcome is null) = (outcome_by is null))
);
create unique index revisit_item_once on revisit_item (sample_id, coalesce(hazard_id, 0), premises_id);
create index revisit_item_town_idx on revisit_item (town_id, outcome);

-- ---------------------------------------------------------------------------------------------
-- Acceptance of a key area: the town submits it once its open hazards are zero, with the
-- checklist answered and the documents named; the district accepts it (it is delisted) or
-- returns it with reasons. Every submission and decision is a row: the history is the table.
-- ---------------------------------------------------------------------------------------------
create table key_area_acceptance (
  id              bigserial primary key,
  key_area_id     int not null references key_area(id) on delete cascade,
  submitted_by    int not null references app_user(id),
  submitted_at    timestamptz not null default now(),
  open_hazards    int not null check (open_hazards = 0),
  checklist       jsonb not null,
  note            text check (note is null or length(note) between 1 and 1000),
  -- Photos (ids) and document references (file numbers of the town's papers).
  photo_ids       bigint[] not null default '{}',
  documents       text[] not null default '{}',
  decision        text check (decision in ('accepted', 'returned')),
  reasons         text check (reasons is null or length(reasons) between 4 and 1000),
  decided_by      int references app_user(id),
  decided_at      timestamptz,
  check ((decision is null) = (decided_at is null)),
  check ((decision is null) = (decided_by is null)),
  check (decision is distinct from 'returned' or reasons is not null)
);
-- One submission awaits a decision at a time.
create unique index key_area_acceptance_pending on key_area_acceptance (key_area_id) where decision is null;
