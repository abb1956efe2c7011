-- The staged import (014) for the entry of issue 14: enforcement records staged like the other
-- ledgers, and the residents ledger's special categories staged with their residents.

create unlogged table import_stage_enforcement (
  job_id            uuid not null,
  line              int not null,
  external_ref      text not null,
  kind              text not null,
  occurred_on       date not null,
  count             int not null,
  case_number       text,
  -- At premises, or (null) at the police station alone, with the importer's town when a town user's.
  premises_id       bigint,
  police_station_id int,
  town_id           int,
  note              text
);
create index import_stage_enforcement_job_idx on import_stage_enforcement (job_id, external_ref);

-- Null: the file's special-category column was not mapped (the flags stay as they are).
alter table import_stage_resident
  add column special_categories text[],
  add column flagged_on date;
