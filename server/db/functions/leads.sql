-- What the leads (migration 023) match and score with: addresses as a key, and the district's rest days.

-- Addresses as a key for matching: the same text however a utility or a ledger wrote it —
-- full-width digits and letters, spaces, punctuation, the province/city/district prefix,
-- 栋/座 for 幢. Immutable, so premises get an index on it.
create or replace function address_key(a text) returns text language sql immutable parallel safe as $$
  select nullif(
    regexp_replace(
      regexp_replace(
        translate(lower(normalize(coalesce(a, ''), NFKC)), '栋座號', '幢幢号'),
        '^\s*(江苏省|江苏)?\s*(常州市|常州)?\s*(新北区|常州国家高新区|国家高新区)?', ''),
      '[[:space:][:punct:]，。、；：（）【】《》“”‘’·・　]', '', 'g'),
    '')
$$;

-- Whether a day is a rest day: a weekend not made a working day, or a holiday (table calendar_day).
create or replace function is_rest_day(d date) returns boolean language sql stable parallel safe as $$
  select coalesce((select kind <> 'workday' from calendar_day where day = d), extract(isodow from d) >= 6)
$$;

-- The leads' counter (table lead_version, migration 039), which the leads' map layer is cached
-- under: bumped once per statement that writes leads, so a refresh's thousands of rows cost one
-- bump per statement, not one per row.
create or replace function bump_lead_version() returns trigger language plpgsql as $$
begin
  update lead_version set version = version + 1;
  return null;
end $$;
create or replace trigger lead_version_trg after insert or update or delete or truncate on lead
  for each statement execute function bump_lead_version();
