-- Least privilege: the running app connects as a role that owns nothing (server/db/roles.ts), so it
-- can no longer `alter table ... disable trigger` for a bulk write. What a bulk writer may switch off
-- instead is a transaction-local setting, and only the triggers that keep derived data (summaries,
-- tile cells, daily changes, the data version, the hazard history) follow it: the writer rebuilds
-- those set-wise before it commits. The triggers that protect data (the append-only audit trail,
-- the frozen submitted tables) and the rules (areas from the point, hazard items, updated_at) have
-- no such condition and always run, whoever writes.

-- set_config('app.bulk_load', 'on', true) turns it on until the end of the transaction.
create function bulk_load_active() returns boolean language sql stable parallel safe as $$
  select coalesce(current_setting('app.bulk_load', true), '') = 'on'
$$;

-- The same triggers as before, with a condition: a trigger whose condition is false is not even
-- queued, so a bulk write of a million rows keeps no per-row after-trigger events in memory.
create or replace trigger measure_premises_delete before delete on premises
  for each row when (not bulk_load_active()) execute function measure_premises_trg();
create or replace trigger measure_premises_insert_update after insert or update on premises
  for each row when (not bulk_load_active()) execute function measure_premises_trg();
create or replace trigger premises_cell_trg after insert or update or delete on premises
  for each row when (not bulk_load_active()) execute function premises_cell_sync();
create or replace trigger premises_version_trg after insert or update or delete on premises
  for each statement when (not bulk_load_active()) execute function bump_data_version();
create or replace trigger measure_resident_trg after insert or update or delete on resident
  for each row when (not bulk_load_active()) execute function measure_resident_trg();
create or replace trigger hazard_history_trg after insert or update of referred_at, rectified_at, verified_at on hazard
  for each row when (not bulk_load_active()) execute function hazard_history();
create or replace trigger hazard_summary_trg after insert or update or delete on hazard
  for each row when (not bulk_load_active()) execute function hazard_summary();
create or replace trigger hazard_version_trg after insert or update or delete on hazard
  for each statement when (not bulk_load_active()) execute function bump_data_version();
create or replace trigger measure_hazard_trg after insert or update or delete on hazard
  for each row when (not bulk_load_active()) execute function measure_hazard_trg();

-- A submitted table survives a TRUNCATE as it survives UPDATE and DELETE, even one by the owner
-- (the app's role holds no TRUNCATE privilege at all); audit_log has had the same since 001.
create trigger report_submission_no_truncate before truncate on report_submission
  for each statement execute function report_submission_frozen();
