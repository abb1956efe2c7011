-- The supervising level of a supervision item (督办层级): the district (区级挂牌督办) or the town
-- (镇级). The notice sends district-level items up with the district's name on them; a town's
-- user lists at the town's level only (checked by the app, which knows the user's jurisdiction).
-- Items listed before this column existed take the level of the lister's jurisdiction; an
-- insert that does not say is at the town's level, the lower one.
alter table supervision_item
  add column supervising_level text not null default 'town' check (supervising_level in ('district', 'town'));

update supervision_item s set supervising_level = 'district'
from app_user u where u.id = s.listed_by and u.jurisdiction_kind = 'district';
