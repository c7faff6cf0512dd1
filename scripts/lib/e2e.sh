# The harness every end-to-end script shares: a work folder cleaned up on exit, pass/fail counting, and
# starting, waiting for and stopping the real `gatehouse` binary. Source it after setting $root and
# sourcing scripts/lib/postgres.sh.
bin="$root/.build/debug/gatehouse"
[ -x "$bin" ] || (cd "$root" && swift build --product gatehouse) || exit 1

work=$(mktemp -d /tmp/gatehouse-e2e.XXXXXX)
pids=()
own_postgres=0
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  [ "$own_postgres" = 1 ] && stop_throwaway_postgres
  rm -rf "$work"
}
trap cleanup EXIT

passed=0; failed=0
pass() { passed=$((passed + 1)); echo "  ok   $1"; }
fail() { failed=$((failed + 1)); echo "  FAIL $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/       /'; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
# fold_counts FILE — adds the 'N passed, N failed' last line of a driver's output to ours (a missing line fails)
fold_counts() {
  local counts
  counts=$(tail -n 1 "$1")
  passed=$((passed + $(echo "$counts" | grep -Eo '^[0-9]+' || echo 0)))
  failed=$((failed + $(echo "$counts" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 1)))
}

# start_server NAME ARGS... — starts `gatehouse serve` in $work/NAME, output in NAME.out / NAME.err
declare -A server_logs
start_server() {
  local name=$1; shift
  mkdir -p "$work/$name"
  (cd "$work/$name" && exec "$bin" serve --templates "$root/Templates" "$@" >"$work/$name.out" 2>"$work/$name.err") &
  pids+=($!)
  server_logs[$!]="$work/$name.err"
  eval "pid_$name=$!"
}

wait_ready() { # wait_ready PORT — until /readyz answers 200 (30 s at most)
  for _ in $(seq 1 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz")" = 200 ] && return 0
    sleep 0.2
  done
  return 1
}

# stop_server PID — SIGTERM, then the exit status (124 if it did not stop in 15 s, with the end of its log: run
# with LOG_LEVEL=debug, that names each service as it finishes, so the one still running is the one left out)
stop_server() {
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 75); do
    kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }
    sleep 0.2
  done
  if [ -n "${server_logs[$1]:-}" ]; then
    echo "       the server ($1) did not stop within 15 s; the end of its log:"
    tail -n 30 "${server_logs[$1]}" | cut -c1-240 | sed 's/^/         /'
  fi
  return 124
}

one_error_line() { # one_error_line FILE — exactly one line, and it starts with "gatehouse: error:"
  [ "$(wc -l <"$1")" -eq 1 ] && grep -q '^gatehouse: error: ' "$1"
}
one_error() { # one_error FILE — a log may precede it, but exactly one "gatehouse: error:" line ends it
  [ "$(grep -c '^gatehouse: error: ' "$1")" -eq 1 ] && tail -n 1 "$1" | grep -q '^gatehouse: error: '
}
export -f one_error_line one_error

gh() { "$bin" "$@"; }
