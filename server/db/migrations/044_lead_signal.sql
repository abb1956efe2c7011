-- Leads written once per refresh (issue 16, at a million premises).
--
-- A refresh used to rewrite every lead three times — its signals, then its norms, then its score —
-- so that right after one the table held two dead rows per lead and no page was marked all-visible:
-- the list's first uncached count read the table instead of its index (0.5-0.6 s at a million
-- premises). The signals of a refresh are now kept here between its statements, the norms are
-- computed from them, and each lead is written once with its signals, norms and score together,
-- and only when one of them changed. Derived data, rewritten by every refresh; unlogged, since a
-- crash loses nothing the next refresh does not compute again.
create unlogged table lead_signal (
  lead_id      bigint primary key,
  town_id      int not null,
  community_id int,
  -- The lead's signals without the norms (they need every lead's signals first).
  features     jsonb not null
);

-- Where the app's role may not vacuum the leads itself (it owns no table), autovacuum comes sooner
-- and unthrottled on them: after a refresh that changed a twentieth of the leads, not a fifth.
alter table lead set (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05, autovacuum_vacuum_cost_delay = 0);
