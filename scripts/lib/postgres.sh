# Throwaway PostgreSQL clusters for tests, sourced by scripts/test, scripts/dev-postgres and scripts/e2e-*.
#
# postgres_available            — true when initdb and pg_ctl are installed
# start_throwaway_postgres      — starts a cluster in a temporary folder on a free loopback port and sets
#                                 GATEHOUSE_PG_URL; as root it runs the server as the `postgres` user
# stop_throwaway_postgres       — stops it and removes the folder (safe to call twice)

postgres_bin() {
  local dir
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

postgres_available() { [ -n "$(postgres_bin)" ]; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the cluster's owner: ourselves, or `postgres` (else `nobody`) when we are root.
as_cluster_owner() {
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  else
    local owner=postgres
    id -u postgres >/dev/null 2>&1 || owner=nobody
    runuser -u "$owner" -- "$@"
  fi
}

start_throwaway_postgres() {
  local bin port
  bin=$(postgres_bin)
  PG_TMP=$(mktemp -d /tmp/gatehouse-pg.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then
    if id -u postgres >/dev/null 2>&1; then chown postgres "$PG_TMP"; else chown nobody "$PG_TMP"; fi
  fi
  port=$(free_port)
  # Swift Testing runs the HTTP suites' tests at once, each application with its own pool (and a LISTEN
  # connection): 400 connections ran out once with 222 of them; 1000 leaves room.
  as_cluster_owner "$bin/initdb" -D "$PG_TMP/data" -A trust -U gatehouse --no-sync >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  # Tests need no durability: fsync, synchronous commit and full-page writes are off, which flatters writes.
  # PG_DURABLE=1 keeps PostgreSQL's defaults (all on), as a deployment runs it: what scripts/bench measures.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PG_DURABLE:-0}" = 1 ] && durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  as_cluster_owner "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=1000 $durability" \
    start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
  PG_PORT=$port
  GATEHOUSE_PG_URL="postgres://gatehouse@127.0.0.1:$port/postgres?sslmode=disable"
  export GATEHOUSE_PG_URL PG_TMP PG_PORT
}

stop_throwaway_postgres() {
  [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP" ] || return 0
  as_cluster_owner "$(postgres_bin)/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_TMP"
  PG_TMP=
}

# Stops the running throwaway cluster but keeps its data, to test what happens when the database goes away.
pause_throwaway_postgres() {
  as_cluster_owner "$(postgres_bin)/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null
}

# Starts a paused cluster again on the same port.
resume_throwaway_postgres() {
  as_cluster_owner "$(postgres_bin)/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=1000 -c fsync=off" start >/dev/null
}
