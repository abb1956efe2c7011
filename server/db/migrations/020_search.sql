-- Search in the header (server/plugins/app/search.ts): partial addresses and ledger refs, people's
-- names and phones by their beginning.
--
-- Addresses are Chinese, typed without spaces, and the useful fragments are short: 锦绣, 龙虎塘,
-- 汉江路12. pg_trgm was checked first and set aside: its trigrams come from "words", so a fragment of
-- two characters gives it no trigram to look up (a full scan: 330 ms at 1,000,000 premises), and
-- where the database's LC_CTYPE is plain C it does not count Chinese characters as letters at all
-- (no trigram from 三井街道: every search scans the index whole). Two-character pieces of the
-- lower-cased text (bigrams) need neither: every fragment of two or more characters has one, and
-- a text holds a fragment only if it holds all the fragment's bigrams, whatever the locale. The
-- GIN index finds the rows holding them; ILIKE on those rows confirms the match.

-- Every distinct two-character piece of the lower-cased text; none for a text of one character.
create function search_bigrams(t text) returns text[] language plpgsql immutable strict parallel safe as $$
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
create function premises_search_bigrams(address text, external_ref text) returns text[] language sql immutable parallel safe as $$
  select public.search_bigrams(coalesce(address, '') || ' ' || coalesce(external_ref, ''))
$$;

create index premises_search_bigrams_idx on premises using gin (premises_search_bigrams(address, external_ref));

-- Phones as typed may hold spaces, dashes, brackets: compared by their digits.
create function phone_digits(phone text) returns text language sql immutable strict parallel safe as $$
  select regexp_replace(phone, '[^0-9]', '', 'g')
$$;

-- Names and phones are found by their beginning (王伟 finds 王伟 and 王伟强). The "C" collation orders
-- by code point, so that [q, q || U+10FFFF) holds exactly the texts beginning with q, whatever the
-- database's own collation; a range, unlike LIKE 'q%', uses the index in a generic plan too.
create index premises_owner_name_idx on premises ((owner_name collate "C")) where owner_name is not null;
create index premises_second_landlord_name_idx on premises ((second_landlord_name collate "C")) where second_landlord_name is not null;
create index premises_owner_phone_idx on premises ((phone_digits(owner_phone) collate "C")) where owner_phone is not null;
create index premises_second_landlord_phone_idx on premises ((phone_digits(second_landlord_phone) collate "C")) where second_landlord_phone is not null;
create index resident_name_idx on resident ((name collate "C"));
create index resident_phone_idx on resident ((phone_digits(phone) collate "C")) where phone is not null;
