-- A submitted table stays as it was submitted: the database refuses UPDATE, DELETE and TRUNCATE
-- of report_submission, to the owner as well (the app's role holds no such privilege anyway).
create or replace function report_submission_frozen() returns trigger language plpgsql as $$
begin
  raise exception 'a submitted table cannot be changed' using errcode = '42501';
end $$;
create or replace trigger report_submission_frozen_trg before update or delete on report_submission
  for each row execute function report_submission_frozen();
create or replace trigger report_submission_no_truncate before truncate on report_submission
  for each statement execute function report_submission_frozen();
