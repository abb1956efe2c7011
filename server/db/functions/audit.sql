-- The audit trail is append-only: the database itself refuses to rewrite history, to the app's
-- role (which holds no UPDATE, DELETE or TRUNCATE privilege on it anyway) and to the owner alike.

create or replace function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = '42501';
end $$;
create or replace trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_append_only();
create or replace trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_append_only();
