-- Search in the header (server/plugins/app/search.ts); migration 020 has the indexes built on these
-- and why bigrams rather than pg_trgm. An index expression's function must stay immutable and give
-- the same answer: changing what one returns needs a migration that rebuilds its index.

-- Every distinct two-character piece of the lower-cased text; none for a text of one character.
create or replace function search_bigrams(t text) returns text[] language plpgsql immutable strict parallel safe as $$
declare
  x text := lower(t);
  n int := char_length(x);
  found text[] := '{}';
  g text;
begin
  for i in 1 .. n - 1 loop
    g := substr(x, i, 2);
    if not g = any(found) then
      found := found || g;
    end if;
  end loop;
  return found;
end $$;

-- The address and the ledger ref in one index; the space keeps a bigram from spanning the two.
-- Named with its schema: PostgreSQL 17 and later build and maintain an index with search_path
-- reduced to pg_catalog.
create or replace function premises_search_bigrams(address text, external_ref text) returns text[] language sql immutable parallel safe as $$
  select public.search_bigrams(coalesce(address, '') || ' ' || coalesce(external_ref, ''))
$$;

-- Phones as typed may hold spaces, dashes, brackets: compared by their digits.
create or replace function phone_digits(phone text) returns text language sql immutable strict parallel safe as $$
  select regexp_replace(phone, '[^0-9]', '', 'g')
$$;
