#!/usr/bin/env bash
# The trial of docs/scale.md, "A province: ... Citus, distributed by district", on one machine: a
# Citus coordinator and two workers (PostgreSQL 15 instances on ports 55450-55452 under /tmp/citus),
# the 1,000,000 premises of grd_s27 split into four districts (district_id = 1 + town_id % 4), and
# the map's queries timed there, on the same tables not distributed (database plain on the
# coordinator's instance, without the citus extension) and on grd_s27 itself.
#
#   scripts/citus-trial.sh [start|load|measure|stop|all]    (default all: the four in turn)
#
# start    initdb and start the three instances if needed, create database trial with citus and
#          postgis on each, register the nodes; database plain (postgis only) on the coordinator
# load     dump the rows from grd_s27 (read only) into /tmp/citus-trial, then build both databases
#          with scripts/citus-trial.sql; its log has each step's time
# measure  time every query (pgbench, 10 runs on one connection: the first, which opens Citus's
#          connections to the workers, and the median), keep their plans and check that the
#          databases give the same answers; try the triggers and notifications the doc relies on.
#          Writes /tmp/citus-trial/results.md
# stop     stop the three instances
#
# Needs Citus installed (../shared/tools/build-citus.sh) and the 1,000,000-premises bench database
# (`npm run bench -- --premises 1000000 --keep --db grd_s27 --setup-only`) on 127.0.0.1, port
# $SOURCE_PORT (55432), database $SOURCE_DB (grd_s27). Every step can be run again: load rebuilds
# both databases from scratch.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
pgbin=/usr/lib/postgresql/15/bin
root=/tmp/citus
work=/tmp/citus-trial
coordinator=55450
workers=(55451 55452)
source_port=${SOURCE_PORT:-55432}
source_db=${SOURCE_DB:-grd_s27}
# The day the map's colours are computed for: the last day of grd_s27's data, where every status occurs.
on=2020-11-30
# The district the one-district queries read (the largest, 293,908 premises), and its towns in
# grd_s27, which stand in for it there.
district=3
towns='2, 6, 10'

q() { # q PORT DB [psql args...]: psql without the user's settings, stopping at the first error
  local port=$1 db=$2
  shift 2
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

start() {
  mkdir -p "$root"
  chown postgres "$root"
  local port
  for port in "$coordinator" "${workers[@]}"; do
    local dir=$root/$port
    # initdb refuses to run as root; trust authentication suits a throwaway local cluster.
    [ -f "$dir/PG_VERSION" ] || runuser -u postgres -- "$pgbin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
    if ! runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir" status >/dev/null; then
      runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir" -l "$dir/log" -w start -o "-p $port -k $root \
        -c shared_preload_libraries=citus -c fsync=off -c full_page_writes=off -c shared_buffers=1GB -c listen_addresses=127.0.0.1" >/dev/null
    fi
  done
  # The extensions only where they are missing: once the nodes are registered, a worker refuses
  # CREATE EXTENSION even with IF NOT EXISTS, and the coordinator passes it on to the workers.
  for port in "$coordinator" "${workers[@]}"; do
    [ -n "$(q "$port" postgres -Atc "select 1 from pg_database where datname = 'trial'")" ] || q "$port" postgres -c 'create database trial'
    # citus first: it must be the first extension a database loads.
    if [ "$(q "$port" trial -Atc "select count(*) from pg_extension where extname in ('citus', 'postgis')")" != 2 ]; then
      q "$port" trial -c 'create extension citus' -c 'create extension postgis'
    fi
  done
  # Both calls leave a node already registered as it is.
  q "$coordinator" trial -c "select citus_set_coordinator_host('127.0.0.1', $coordinator)" >/dev/null
  for port in "${workers[@]}"; do q "$coordinator" trial -c "select citus_add_node('127.0.0.1', $port)" >/dev/null; done
  [ -n "$(q "$coordinator" postgres -Atc "select 1 from pg_database where datname = 'plain'")" ] || q "$coordinator" postgres -c 'create database plain'
  q "$coordinator" plain -c 'set client_min_messages = warning' -c 'create extension if not exists postgis'
}

stop() {
  local port
  for port in "$coordinator" "${workers[@]}"; do
    if [ -f "$root/$port/PG_VERSION" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$root/$port" status >/dev/null; then
      runuser -u postgres -- "$pgbin/pg_ctl" -D "$root/$port" -w stop >/dev/null
    fi
  done
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

load() {
  mkdir -p "$work"
  local t
  t=$(now)
  # Ordered by district, then by place (geohash), as the app clusters premises after a bulk load:
  # a tile's or a ring's premises then share pages in each shard as in grd_s27.
  q "$source_port" "$source_db" -c "copy (
    select 1 + town_id % 4, id, kind, geom, town_id, community_id, police_station_id, meets_rule, found_on, registered_on,
           deregistered_on, hazard_count, open_count, open_major_count, open_min_deadline
    from premises order by 1 + town_id % 4, st_geohash(geom, 9) collate \"C\") to stdout" >"$work/premises.copy"
  q "$source_port" "$source_db" -c "copy (
    select 1 + p.town_id % 4, h.id, h.premises_id, h.item_code, h.severity, h.found_at, h.rectified_at, h.deadline
    from hazard h join premises p on p.id = h.premises_id order by 1, h.premises_id, h.id) to stdout" >"$work/hazard.copy"
  q "$source_port" "$source_db" -c 'copy (select id, level, parent_id, code, name_en, valid_to, geom from admin_area) to stdout' >"$work/admin_area.copy"
  q "$source_port" "$source_db" -c 'copy (select code, category_code, name_en from hazard_item) to stdout' >"$work/hazard_item.copy"
  echo "dumped from $source_db in $(since "$t") s"
  t=$(now)
  q "$coordinator" trial -v distributed=true -f "$here/citus-trial.sql" >"$work/load-citus.log"
  echo "citus built in $(since "$t") s (steps: $work/load-citus.log)"
  t=$(now)
  q "$coordinator" plain -v distributed=false -f "$here/citus-trial.sql" >"$work/load-plain.log"
  echo "plain built in $(since "$t") s (steps: $work/load-plain.log)"
}

# --- The queries, as the app builds them (server/plugins/app/tiles.ts, premises.ts), with the
# --- jurisdiction's condition as the last argument.

# tile_bounds Z X Y: the tile's west edge, north edge and size in Web Mercator metres (tileBounds).
tile_bounds() {
  awk -v z="$1" -v x="$2" -v y="$3" 'BEGIN { w = 20037508.342789244; s = 2 * w / 2 ^ z; printf "%.10f %.10f %.10f\n", -w + x * s, w - y * s, s }'
}

# points_rows Z X Y WHERE: a tile's premises as points in tile coordinates (rowsQuery, raw branch).
points_rows() {
  local minx maxy size
  read -r minx maxy size < <(tile_bounds "$1" "$2" "$3")
  # The points' buffer: 64 of the tile's 4096 units.
  local m
  m=$(awk -v s="$size" 'BEGIN { printf "%.10f", s * 64 / 4096 }')
  cat <<SQL
  select p.id, p.kind, hazard_status(p.hazard_count, p.open_count, p.open_major_count, p.open_min_deadline, '$on') as status,
         (p.meets_rule and p.kind in ('group_rental', 'rental')
          and not (p.kind = 'group_rental' and p.registered_on is not null) and p.deregistered_on is null) as unregistered,
         round((st_x(p.geom_m) - $minx) / $size * 4096)::int as px,
         round(($maxy - st_y(p.geom_m)) / $size * 4096)::int as py
  from premises p
  where p.geom_m && st_makeenvelope($minx - $m, $maxy - $size - $m, $minx + $size + $m, $maxy + $m, 3857) and $4
  order by p.id
SQL
}

# points_tile Z X Y WHERE: the same encoded by ST_AsMVT (encodeInDatabase).
points_tile() {
  echo "select st_asmvt(q, 'premises', 4096, 'geom', 'id') as tile"
  echo "from (select id, kind, status, unregistered, st_makepoint(px, py) as geom from ("
  points_rows "$@"
  echo ") r) q where serial_plan()"
}

# points_tile_gathered Z X Y WHERE: the same with the rows in a materialized CTE, which Citus computes
# first (a distributed subplan) and hands to the coordinator, where ST_AsMVT then runs.
points_tile_gathered() {
  echo "with r as materialized ("
  points_rows "$@"
  echo ") select st_asmvt(q, 'premises', 4096, 'geom', 'id') as tile"
  echo "from (select id, kind, status, unregistered, st_makepoint(px, py) as geom from r order by id) q where serial_plan()"
}

# cells_tile Z X Y WHERE: a tile's cells from premises_cell (cellRowsQuery, encoded by ST_AsMVT).
# The app reads premises_cell2 at zoom 12 (migration 053); the trial has premises_cell only, whose
# cells two by two make the tile's, so every database groups twice the rows the app would.
cells_tile() {
  local z=$1 x=$2 y=$3 minx maxy size
  read -r minx maxy size < <(tile_bounds "$z" "$x" "$y")
  local side=64 per_tile=$((64 << (13 - z)))
  local shift pad
  shift=$(awk -v a="$per_tile" -v b="$side" 'BEGIN { print log(a / b) / log(2) }')
  pad=$((per_tile * 64 / 4096))
  local x0=$((x * per_tile - pad)) x1=$(((x + 1) * per_tile + pad)) y0=$((y * per_tile - pad)) y1=$(((y + 1) * per_tile + pad))
  local columns
  columns=$(seq -s, "$x0" $((x1 - 1)))
  cat <<SQL
select st_asmvt(q, 'premises_agg', 4096, 'geom', 'id') as tile
from (select cell as id, count, none, rectified, open_general, open_major, overdue, status, st_makepoint(px, py) as geom from (
  select ((g.cy - $((y * side)) + 1) * 1000 + (g.cx - $((x * side)) + 1))::int as cell,
         g.count, g.none, g.rectified, g.open_general, g.open_major, g.overdue,
         (array['none', 'rectified', 'open_general', 'open_major', 'overdue'])[g.rank] as status,
         round((g.sx / g.count - $minx) / $size * 4096)::int as px,
         round(($maxy - g.sy / g.count) / $size * 4096)::int as py
  from (
    select cx >> $shift as cx, cy >> $shift as cy, sum(n)::int as count, sum(sum_x) as sx, sum(sum_y) as sy,
           coalesce(sum(n) filter (where s = 1), 0)::int as none,
           coalesce(sum(n) filter (where s = 2), 0)::int as rectified,
           coalesce(sum(n) filter (where s = 3), 0)::int as open_general,
           coalesce(sum(n) filter (where s = 4), 0)::int as open_major,
           coalesce(sum(n) filter (where s = 5), 0)::int as overdue,
           max(s) as rank
    from (
      select c.cx, c.cy, c.n, c.sum_x, c.sum_y,
             case when not c.has_hazard then 1 when not c.has_open then 2 when c.open_min_deadline < '$on' then 5
                  when c.has_open_major then 4 else 3 end as s
      from premises_cell c
      where c.cx = any('{$columns}'::int[]) and c.cy >= $y0 and c.cy < $y1 and $4
    ) r
    group by 1, 2
  ) g
  order by cell) r) q where serial_plan()
SQL
}

# legend WHERE: the legend's counts by status from the premises (premisesCountsFromRows).
legend() {
  cat <<SQL
select hazard_status(p.hazard_count, p.open_count, p.open_major_count, p.open_min_deadline, '$on') as status, count(*)::int as n,
       count(*) filter (where p.meets_rule and p.kind in ('group_rental', 'rental')
                        and not (p.kind = 'group_rental' and p.registered_on is not null) and p.deregistered_on is null)::int as unregistered
from premises p where $1 and serial_plan()
group by 1 order by 1
SQL
}

# key_area WHERE HAZARD_JOIN: premises and their hazards within a square of about 1 km² (1.00 x
# 1.00 km) in district 3, the filter the preview applies to the premises along its boundary.
key_area() {
  cat <<SQL
select count(distinct p.id)::int as premises, count(h.id)::int as hazards
from premises p left join hazard h on $2
where st_covers(st_geomfromtext('POLYGON((119.9067 31.8442, 119.9173 31.8442, 119.9173 31.8532, 119.9067 31.8532, 119.9067 31.8442))', 4326), p.geom)
  and $1
SQL
}

# rings POINTS WHERE: the premises within 200 m of each of 50 places (true metres: Mercator metres
# shrink by the cosine of the latitude), one indexed join.
rings() {
  cat <<SQL
select pts.id, count(*)::int as premises
from (values $1) as pts(id, g)
join premises p on st_dwithin(p.geom_m, pts.g, 200 / cos(radians(st_y(st_transform(pts.g, 4326)))))
where $2
group by pts.id order by pts.id
SQL
}

# --- Measuring.

results=$work/results.md

# bench NAME PORT DB RUNS FILE [SETTINGS]: runs the query in FILE RUNS times on one connection (with
# the settings, as PGOPTIONS); one table row with the first run, the median, the fastest and the
# slowest (ms) and the load average then.
bench() {
  local name=$1 port=$2 db=$3 runs=$4 file=$5 settings=${6:-}
  local logs=$work/pgbench/$name
  rm -rf "$logs"
  mkdir -p "$logs"
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  PGOPTIONS=$settings "$pgbin/pgbench" -n -c 1 -t "$runs" -f "$file" -l --log-prefix="$logs/run" -h 127.0.0.1 -p "$port" -U postgres "$db" >"$logs/out" 2>&1 ||
    { echo "| $name | failed: $(grep -m1 -i error "$logs/out") | | | | $load |" >>"$results"; return; }
  # A log line: client, transaction, latency in microseconds, ...; in the order run, then sorted.
  sort -k2,2n "$logs"/run.* | awk '{ print $3 / 1000 }' >"$logs/ms"
  sort -n "$logs/ms" | awk -v name="$name" -v load="$load" -v first="$(head -1 "$logs/ms")" '
    { t[NR] = $1 }
    END {
      median = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
      printf "| %s | %.1f | %.1f | %.1f | %.1f | %s |\n", name, first, median, t[1], t[NR], load
    }' >>"$results"
}

# plan NAME FILE: the query's plan on Citus, kept whole, and its distributed shape in one line.
plan() {
  local name=$1 file=$2
  mkdir -p "$work/plans"
  { echo 'explain (costs off)'; cat "$file"; } | q "$coordinator" trial >"$work/plans/$name.txt"
  local top tasks subplans
  top=$(awk 'NR == 3 { sub(/^ +/, ""); sub(/ +$/, ""); print; exit }' "$work/plans/$name.txt")
  tasks=$(grep -o 'Task Count: [0-9]*' "$work/plans/$name.txt" | awk '{ printf "%s%s", sep, $3; sep = " + " }')
  subplans=$(grep -c 'Distributed Subplan' "$work/plans/$name.txt" || true)
  echo "| $name | $top | $tasks | $subplans |" >>"$results"
}

# answer PORT DB FILE: a digest of the query's whole answer, to compare the databases' answers.
answer() {
  { echo 'select md5(string_agg(a::text, chr(10) order by a::text)) from ('; cat "$3"; echo ') a'; } | q "$1" "$2" -At
}

measure() {
  local qs=$work/queries
  rm -rf "$qs"
  mkdir -p "$qs"
  local d="p.district_id = $district" c="c.district_id = $district"
  # Tiles: 14/13649/6661 lies in district 3 alone (3,405 premises, under the point budget of
  # 4,000); 14/13651/6659 spans districts 1, 3 and 4 (3,329); 12/3413/1665 spans 1, 3 and 4 (207,759).
  points_tile 14 13649 6661 "$d" >"$qs/a1-z14-one-district.sql"
  points_tile 14 13649 6661 true >"$qs/a2-z14-same-tile-no-district.sql"
  points_tile_gathered 14 13649 6661 true >"$qs/a3-z14-same-tile-gathered.sql"
  points_rows 14 13649 6661 true >"$qs/a4-z14-same-tile-rows-only.sql"
  points_tile_gathered 14 13651 6659 true >"$qs/a5-z14-three-districts-gathered.sql"
  cells_tile 12 3413 1665 "$c" >"$qs/b1-z12-cells-one-district.sql"
  cells_tile 12 3413 1665 true >"$qs/b2-z12-cells-all.sql"
  legend "$d" >"$qs/c1-legend-one-district.sql"
  legend true >"$qs/c2-legend-all.sql"
  # The premises by town, the towns' names from admin_area: a distributed table joined to a reference table.
  echo "select t.name_en, count(*)::int from premises p join admin_area t on t.id = p.town_id where $d group by 1 order by 1" \
    >"$qs/c3-by-town-one-district.sql"
  key_area "$d" 'h.district_id = p.district_id and h.premises_id = p.id' >"$qs/d-key-area.sql"
  local places
  places=$(q "$coordinator" plain -At -c "
    select string_agg(format('(%s, %L::geometry)', i, st_asewkt(geom_m)), ', ')
    from (select row_number() over () as i, geom_m from
           (select geom_m from premises where district_id = $district order by md5(id::text) limit 50) s) n")
  rings "$places" "$d" >"$qs/e-rings.sql"
  # grd_s27 has no district_id: its district is the whole database, and district 3 its towns 2, 6, 10.
  mkdir -p "$qs/grd"
  cp "$qs"/a[1245]-*.sql "$qs"/b2-*.sql "$qs"/c2-*.sql "$qs/grd/"
  sed "s/$d/p.town_id in ($towns)/" "$qs/c3-by-town-one-district.sql" >"$qs/grd/c3-by-town-one-district.sql"
  points_tile 14 13649 6661 true >"$qs/grd/a1-z14-one-district.sql"
  cells_tile 12 3413 1665 "c.town_id in ($towns)" >"$qs/grd/b1-z12-cells-one-district.sql"
  legend "p.town_id in ($towns)" >"$qs/grd/c1-legend-one-district.sql"
  key_area true 'h.premises_id = p.id' >"$qs/grd/d-key-area.sql"
  rings "$places" "p.town_id in ($towns)" >"$qs/grd/e-rings.sql"

  {
    echo "# Citus trial, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "$(q "$coordinator" trial -At -c "select citus_version()"); $(q "$coordinator" trial -At -c 'select version()')"
    echo "PostGIS $(q "$coordinator" trial -At -c 'select postgis_lib_version()'); $(nproc) cores; uptime at the start:$(uptime)"
    echo
    echo "Districts: shard and node of each"
    echo
    echo "| district | shard | node | premises |"
    echo "|---|---|---|---|"
    q "$coordinator" trial -At -F ' | ' -c "
      with d as materialized (select district_id, count(*) as n from premises group by 1)
      select '| ' || d.district_id, s.shardid, s.nodeport, d.n || ' |'
      from d join citus_shards s on s.table_name = 'premises'::regclass
        and s.shardid = get_shard_id_for_distribution_column('premises', d.district_id)
      order by 1"
    echo
    echo "## Plans on Citus (top node, tasks per distributed scan, distributed subplans)"
    echo
    echo "| query | top node | tasks | subplans |"
    echo "|---|---|---|---|"
  } >"$results"
  # Writes: a district's transaction-wide one, every premises of district 3 in one statement (its
  # row trigger premises_cell_trg runs for each and finds nothing to change); one premises; one row
  # of a reference table, which Citus writes on every node (as app_user's sessions would be).
  mkdir -p "$qs/writes"
  echo "update premises set found_on = found_on where district_id = $district" >"$qs/writes/g1-update-district.sql"
  echo "update premises set found_on = found_on where district_id = $district and id = (select min(id) from premises where district_id = $district)" \
    >"$qs/writes/g2-update-one-premises.sql"
  echo "update hazard_item set name_en = name_en where code = 'FIRE-01'" >"$qs/writes/g3-update-reference-row.sql"
  local f name
  for f in "$qs"/*.sql "$qs"/writes/*.sql; do plan "$(basename "$f" .sql)" "$f"; done

  {
    echo
    echo "## Answers (md5 of the whole answer; the same on the three databases, or not)"
    echo
    echo "| query | citus | plain | grd_s27 |"
    echo "|---|---|---|---|"
  } >>"$results"
  for f in "$qs"/*.sql; do
    name=$(basename "$f" .sql)
    local a_citus a_plain a_grd=''
    # An error is an answer too (its first line).
    a_citus=$(answer "$coordinator" trial "$f" 2>&1 | head -1 || true)
    a_plain=$(answer "$coordinator" plain "$f" 2>&1 | head -1 || true)
    [ ! -f "$qs/grd/$name.sql" ] || a_grd=$(answer "$source_port" "$source_db" "$qs/grd/$name.sql" 2>&1 | head -1 || true)
    echo "| $name | $a_citus | $a_plain | $a_grd |" >>"$results"
  done

  {
    echo
    echo "## Times (ms; 10 runs on one connection)"
    echo
    echo "| query | first | median | fastest | slowest | load average |"
    echo "|---|---|---|---|---|---|"
  } >>"$results"
  for f in "$qs"/*.sql; do
    name=$(basename "$f" .sql)
    bench "citus $name" "$coordinator" trial 10 "$f"
    # By default a query over many shards opens several connections to each worker and keeps one
    # after it (citus.max_cached_conns_per_worker): the next opens them again. Also timed keeping
    # them, and with one connection a worker (its shards one after the other).
    if grep -q 'Task Count: [0-9][0-9]' "$work/plans/$name.txt"; then
      bench "citus (16 cached) $name" "$coordinator" trial 10 "$f" '-c citus.max_cached_conns_per_worker=16'
      bench "citus (1 a worker) $name" "$coordinator" trial 10 "$f" '-c citus.max_adaptive_executor_pool_size=1'
    fi
    bench "plain $name" "$coordinator" plain 10 "$f"
    if [ -f "$qs/grd/$name.sql" ]; then bench "grd_s27 $name" "$source_port" "$source_db" 10 "$qs/grd/$name.sql"; fi
  done

  writes
  triggers
  echo >>"$results"
  echo "uptime at the end:$(uptime)" >>"$results"
  echo "results: $results"
}

# The writes (measure): the district's five times each side (it writes as many row versions), the
# others ten; the dead rows vacuumed after.
writes() {
  local qs=$work/queries/writes
  {
    echo
    echo "## Writes (ms; g1 $(q "$coordinator" plain -At -c "select count(*) from premises where district_id = $district") premises a run, 5 runs; g2, g3 10 runs)"
    echo
    echo "| query | first | median | fastest | slowest | load average |"
    echo "|---|---|---|---|---|---|"
  } >>"$results"
  local f name
  for f in "$qs"/*.sql; do
    name=$(basename "$f" .sql)
    local runs=10
    [ "$name" != g1-update-district ] || runs=5
    bench "citus $name" "$coordinator" trial "$runs" "$f"
    bench "plain $name" "$coordinator" plain "$runs" "$f"
  done
  q "$coordinator" trial -c 'vacuum analyze premises, premises_cell'
  q "$coordinator" plain -c 'vacuum analyze premises, premises_cell'
}

# say TITLE SQL: runs SQL on the coordinator, statement by statement up to the first error, and
# quotes it with what it answered (notices from the workers included). The blocks run in a
# transaction that they roll back or that their error ends, but for the writer's, which commits.
say() {
  {
    echo
    echo "### $1"
    echo
    echo '```sql'
    echo "$2"
    echo '```'
    echo '```'
    q "$coordinator" trial -v SHOW_CONTEXT=never <<<"$2" 2>&1 || true
    echo '```'
  } >>"$results"
}

# The doc's premises about triggers and notifications, tried on the distributed tables.
triggers() {
  echo -e "\n## Triggers and notifications on Citus" >>"$results"
  # A premises of district 3 with no hazard, and a hazard id no one uses.
  local pid hid
  pid=$(q "$coordinator" trial -At -c "select id from premises where district_id = $district and hazard_count = 0 order by id limit 1")
  hid=$(q "$coordinator" trial -At -c 'select max(id) + 1 from hazard')
  local add_hazard="insert into hazard values ($district, $hid, $pid, 'FIRE-01', 'major', now(), null, current_date + 30);"
  local show="select id, hazard_count, open_count, open_major_count, open_min_deadline,
  (select sum(n) from premises_cell c where c.district_id = p.district_id and c.has_hazard
     and c.cx = premises_cell_x(st_x(p.geom_m)) and c.cy = premises_cell_y(st_y(p.geom_m))) as cell_with_hazards
from premises p where district_id = $district and id = $pid;"

  say 'A row trigger on a distributed table without citus.enable_unsafe_triggers' \
    'create trigger refused_trg after insert on hazard for each row execute function hazard_summary();'
  say 'The row triggers (hazard_summary_trg, premises_cell_trg, created with it on): a hazard added, rectified, removed' "begin;
$show
$add_hazard
$show
update hazard set rectified_at = now() where district_id = $district and id = $hid;
$show
delete from hazard where district_id = $district and id = $hid;
$show
rollback;"
  # The app's refresh_hazard_summaries() is a SQL function: the same body as citus-trial.sql's, in SQL.
  say 'The same with the summary written by a SQL function, as the app writes it' "begin;
create or replace function refresh_hazard_summary(d int, pid bigint) returns void language sql as \$\$
  update premises p set hazard_count = s.hazard_count, open_count = s.open_count,
                        open_major_count = s.open_major_count, open_min_deadline = s.open_min_deadline
  from (
    select count(h.id)::int as hazard_count,
           count(h.id) filter (where h.rectified_at is null)::int as open_count,
           count(h.id) filter (where h.rectified_at is null and h.severity = 'major')::int as open_major_count,
           min(h.deadline) filter (where h.rectified_at is null) as open_min_deadline
    from hazard h where h.district_id = d and h.premises_id = pid
  ) s
  where p.district_id = d and p.id = pid
\$\$;
$add_hazard"

  say 'A statement trigger without a transition table: where and how often it runs' "begin;
create function say_where() returns trigger language plpgsql as \$\$
begin
  raise notice 'statement trigger on % at port %', tg_table_name, current_setting('port');
  return null;
end \$\$;
set local citus.enable_unsafe_triggers = on;
create trigger premises_where_trg after update on premises for each statement execute function say_where();
update premises set found_on = found_on where district_id = $district and id = $pid;
update premises set found_on = found_on where id = $pid;
rollback;"
  say 'A statement trigger with a transition table that reads only it' "begin;
create function count_rows() returns trigger language plpgsql as \$\$
begin
  raise notice '% rows on % at port %', (select count(*) from new_rows), tg_table_name, current_setting('port');
  return null;
end \$\$;
set local citus.enable_unsafe_triggers = on;
create trigger premises_rows_trg after update on premises referencing new table as new_rows
  for each statement execute function count_rows();
update premises set found_on = found_on where district_id = $district and id < 100;
rollback;"
  say "A statement trigger joining its transition table to a distributed table (bump_data_version's shape for hazards)" "begin;
create function hazard_areas() returns trigger language plpgsql as \$\$
begin
  raise notice 'cells %', (select array_agg(distinct premises_cell_x(st_x(p.geom_m)))
                           from new_rows h join premises p on p.district_id = h.district_id and p.id = h.premises_id);
  return null;
end \$\$;
set local citus.enable_unsafe_triggers = on;
create trigger hazard_areas_trg after insert on hazard referencing new table as new_rows
  for each statement execute function hazard_areas();
$add_hazard"
  # The function before the table: Citus refuses a function's DDL after a parallel one (the shards'
  # creation) in the same transaction.
  say "A statement trigger writing its transition table into a co-located table (premises_cell_group_sync's shape)" "begin;
create function cell2_sync() returns trigger language plpgsql as \$\$
begin
  insert into premises_cell2 as c
  select district_id, cx >> 1, cy >> 1, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline,
         sum(n), sum(sum_x), sum(sum_y)
  from new_rows group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
  on conflict (cx, cy, town_id, police_station_id, kind, has_hazard, has_open, has_open_major, open_min_deadline, district_id)
  do update set n = c.n + excluded.n, sum_x = c.sum_x + excluded.sum_x, sum_y = c.sum_y + excluded.sum_y;
  return null;
end \$\$;
create table premises_cell2 (like premises_cell including all);
select create_distributed_table('premises_cell2', 'district_id', colocate_with => 'premises');
set local citus.enable_unsafe_triggers = on;
create trigger premises_cell2_ins after insert on premises_cell referencing new table as new_rows
  for each statement execute function cell2_sync();
$add_hazard"
  say "A statement trigger writing a reference table (record_data_change's shape: the version's changed areas)" "begin;
create function premises_cells() returns trigger language plpgsql as \$\$
declare
  cells int[];
begin
  select array_agg(distinct premises_cell_x(st_x(geom_m))) into cells from new_rows;
  insert into data_change (cells) values (cells);
  return null;
end \$\$;
create table data_change (version bigserial primary key, cells int[]);
select create_reference_table('data_change');
set local citus.enable_unsafe_triggers = on;
create trigger premises_cells_trg after update on premises referencing new table as new_rows
  for each statement execute function premises_cells();
update premises set found_on = found_on where district_id = $district and id = $pid;"

  # A row trigger that announces the write, as the app's counters do (NOTIFY grd_versions), and a
  # listener on every node: psql shows a notification after the command during which it arrived.
  q "$coordinator" trial >/dev/null <<SQL
set client_min_messages = warning;
create or replace function announce() returns trigger language plpgsql as \$\$
begin
  perform pg_notify('grd_versions', format('district %s from port %s', new.district_id, current_setting('port')));
  return null;
end \$\$;
set citus.enable_unsafe_triggers = on;
drop trigger if exists premises_announce_trg on premises;
create trigger premises_announce_trg after update on premises for each row execute function announce();
drop table if exists district_version;
create table district_version (district_id int primary key, version bigint not null);
select create_reference_table('district_version');
insert into district_version select d, 0 from generate_series(1, 4) d;
SQL
  local port
  for port in "$coordinator" "${workers[@]}"; do
    q "$port" trial -c 'listen grd_versions' -c 'select pg_sleep(8)' -c 'select 1' >"$work/listen-$port.out" 2>&1 &
  done
  sleep 1
  q "$coordinator" trial -c "update premises set found_on = found_on where district_id = $district and id = $pid"
  # The doc's alternative: the writer bumps its district's counter (here in a reference table) in
  # its own transaction, and the coordinator announces it. First with the trigger's NOTIFY still
  # there: the transaction now writes on several nodes, so Citus commits it in two phases.
  local bump="begin;
update premises set found_on = found_on where district_id = $district and id = $pid;
update district_version set version = version + 1 where district_id = $district;
select pg_notify('grd_versions', 'district $district version ' || version || ' from the coordinator') from district_version where district_id = $district;
commit;"
  say "The writer's transaction bumping its district's counter (a reference table), the trigger's NOTIFY still on" "$bump"
  # Dropping a trigger on a distributed table needs the setting as creating one does.
  q "$coordinator" trial -c 'set citus.enable_unsafe_triggers = on' -c 'drop trigger premises_announce_trg on premises'
  say "The same without it" "$bump"
  wait
  q "$coordinator" trial -c 'drop function announce()' -c 'drop table district_version'
  {
    echo
    echo "### What the listeners on each node received (the NOTIFYs above: the row trigger's, then the coordinator's)"
    echo
    echo '```'
    for port in "$coordinator" "${workers[@]}"; do
      echo "listener on port $port: $(grep -c 'Asynchronous notification' "$work/listen-$port.out" || true) notification(s)"
      grep 'Asynchronous notification' "$work/listen-$port.out" || true
    done
    echo '```'
  } >>"$results"
}

case "${1:-all}" in
  start) start ;;
  load) load ;;
  measure) measure ;;
  stop) stop ;;
  all) start; load; measure; stop ;;
  *) echo "usage: $0 [start|load|measure|stop|all]" >&2; exit 2 ;;
esac
