-- Supervision (挂牌督办), escalation and notices (section five of the notice, DOMAIN.md).

-- ---------------------------------------------------------------------------------------------
-- A supervision item: a major hazard, a premises or a key area listed by a supervising level,
-- with the unit and person responsible and a deadline, watched until closed with evidence.
-- The town and police station are those of its subject when it was listed: every read filters
-- on them, as reads of premises filter on the premises' own.
-- ---------------------------------------------------------------------------------------------
create table supervision_item (
  id                 bigserial primary key,
  campaign_id        int not null references campaign(id),
  kind               text not null check (kind in ('hazard', 'premises', 'key_area')),
  hazard_id          bigint references hazard(id) on delete cascade,
  premises_id        bigint references premises(id) on delete cascade,
  key_area_id        int references key_area(id) on delete cascade,
  town_id            int not null references admin_area(id),
  police_station_id  int references police_station(id),
  -- The responsible unit: a department (交办 to it) or a town/street.
  unit_kind          text not null check (unit_kind in ('department', 'town')),
  unit_department    text references department(code),
  unit_town_id       int references admin_area(id),
  responsible_person text not null check (length(responsible_person) between 1 and 100),
  -- The user told about it when the person has an account.
  responsible_user_id int references app_user(id),
  reason             text not null check (length(reason) between 1 and 500),
  deadline           date not null,
  -- The highest escalation level reached (0: none yet).
  level              smallint not null default 0 check (level between 0 and 9),
  state              text not null default 'open' check (state in ('open', 'closed')),
  listed_on          date not null,
  listed_by          int not null references app_user(id),
  created_at         timestamptz not null default now(),
  closed_at          timestamptz,
  closed_by          int references app_user(id),
  closing_note       text check (closing_note is null or length(closing_note) between 4 and 1000),
  -- Photos of the subject's premises that show the work done.
  closing_photo_ids  bigint[] not null default '{}',
  check (deadline >= listed_on),
  check (case kind
           when 'hazard' then hazard_id is not null and premises_id is not null and key_area_id is null
           when 'premises' then hazard_id is null and premises_id is not null and key_area_id is null
           when 'key_area' then hazard_id is null and premises_id is null and key_area_id is not null
         end),
  check (case unit_kind
           when 'department' then unit_department is not null and unit_town_id is null
           else unit_town_id is not null and unit_department is null
         end),
  check ((state = 'closed') = (closed_at is not null)),
  check ((state = 'closed') = (closed_by is not null)),
  check ((state = 'closed') = (closing_note is not null))
);
-- One open listing per subject: a second one would split who answers for it.
create unique index supervision_item_open_once on supervision_item (kind, coalesce(hazard_id, premises_id, key_area_id)) where state = 'open';
create index supervision_item_town_idx on supervision_item (town_id, state);
create index supervision_item_station_idx on supervision_item (police_station_id, state);
create index supervision_item_open_deadline_idx on supervision_item (deadline) where state = 'open';

-- ---------------------------------------------------------------------------------------------
-- Escalation rules, campaign data: an open item at level from_level moves to to_level once its
-- deadline is more than after_days days past. to_level > from_level makes a loop impossible here
-- as well as in the API's check; who hears of it: the commanders whose jurisdiction holds the
-- item, or the district's (district-wide commanders and the leadership group).
-- ---------------------------------------------------------------------------------------------
create table escalation_rule (
  campaign_id  int not null references campaign(id) on delete cascade,
  from_level   smallint not null check (from_level between 0 and 8),
  to_level     smallint not null check (to_level between 1 and 9),
  after_days   int not null check (after_days between 0 and 366),
  notify       text not null check (notify in ('jurisdiction', 'district')),
  primary key (campaign_id, from_level),
  unique (campaign_id, to_level),
  check (to_level > from_level)
);
-- The campaign's default: the jurisdiction's commanders hear the day after the deadline, the
-- district a week later. Editable per campaign (PUT /api/supervision/rules).
insert into escalation_rule (campaign_id, from_level, to_level, after_days, notify)
select c.id, r.from_level, r.to_level, r.after_days, r.notify
from campaign c cross join (values (0, 1, 0, 'jurisdiction'), (1, 2, 7, 'district')) r(from_level, to_level, after_days, notify);

-- A level reached by an item, once only (the computation may run any number of times a day).
create table escalation_event (
  id          bigserial primary key,
  item_id     bigint not null references supervision_item(id) on delete cascade,
  level       smallint not null check (level between 1 and 9),
  reached_on  date not null,
  days_overdue int not null check (days_overdue > 0),
  created_at  timestamptz not null default now(),
  unique (item_id, level)
);
create index escalation_event_day_idx on escalation_event (reached_on);

-- ---------------------------------------------------------------------------------------------
-- Notices: what a user is told (tasks assigned, escalations, key-area proposals, submissions due,
-- overdue reports). The payload holds ids, codes and counts, never a resident's or an owner's
-- details, so it may be shown to roles that do not see people. town_id / police_station_id are
-- where its subject lies (both null: district-wide): a user whose jurisdiction no longer holds it
-- is not shown it. dedupe_key makes a notice the scheduler computes again arrive once.
-- ---------------------------------------------------------------------------------------------
create table notice (
  id                 bigserial primary key,
  user_id            int not null references app_user(id) on delete cascade,
  kind               text not null check (kind in ('task-assigned', 'escalation', 'key-area-proposal', 'submission-due', 'report-overdue')),
  payload            jsonb not null default '{}',
  town_id            int references admin_area(id),
  police_station_id  int references police_station(id),
  dedupe_key         text not null check (length(dedupe_key) between 1 and 200),
  created_at         timestamptz not null default now(),
  read_at            timestamptz,
  unique (user_id, kind, dedupe_key)
);
create index notice_user_idx on notice (user_id, created_at desc);
create index notice_unread_idx on notice (user_id) where read_at is null;
