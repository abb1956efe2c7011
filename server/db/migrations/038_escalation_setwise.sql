-- The day's escalation at scale (issue 18's bench: a first run over two months of backlog at
-- 1,000,000 premises wrote 196,690 levels and 96,690 notices in 17.5 s, a third of it in the
-- foreign keys' row triggers, one query per row and key).

-- A level raised changes one narrow column: with room on its page the new version stays there (a
-- heap-only update) and none of the item's five indexes is written again. A first run after a
-- backlog raises every open item at once, before any old version can be pruned, so each page keeps
-- room for a second copy of all its rows (at 1,000,000 premises, 100,000 items: 23 MB become 46 MB;
-- at 80 % a quarter of the updates stayed on their page and a level raised cost four times as
-- much). Pages written from now on keep the room; the ones already full get it when rewritten.
alter table supervision_item set (fillfactor = 50);

-- Nothing reads the levels by day: an index each insert paid for without a reader.
drop index escalation_event_day_idx;

-- The references of escalation_event and notice are checked once per statement over the rows it
-- wrote instead of once per row (one query per row and key: a third of the backlog's time), by the
-- triggers in server/db/functions/references.sql, which also keep the keys' cascades.
alter table escalation_event drop constraint escalation_event_item_id_fkey;
alter table notice drop constraint notice_user_id_fkey;
alter table notice drop constraint notice_town_id_fkey;
alter table notice drop constraint notice_police_station_id_fkey;
