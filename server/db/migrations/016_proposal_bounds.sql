-- A draft proposed from a cluster analysis records a handful of named parameters (of, eps,
-- minPoints, the map's filters, the cluster's counts: server/schemas/analysis.ts), a few kilobytes
-- at most; the database holds it to that as well. NOT VALID: rows stored before the rule are left
-- as they are (the check applies to every new write).
alter table key_area add constraint key_area_proposed_from_check
  check (proposed_from is null or (jsonb_typeof(proposed_from) = 'object' and octet_length(proposed_from::text) <= 8192)) not valid;
