# Sourced by scripts/test and bench/run: a throwaway PostgreSQL cluster on a free loopback port.
#
#   postgres_start DIR [extra postgres -c settings...]   initdb + start; sets POSTGRES_PORT and POSTGRES_URL_BASE
#   postgres_createdb NAME                                 creates a database owned by `coffer`
#   postgres_stop                                          immediate stop (the caller removes DIR)
#
# PostgreSQL refuses to run as root, so as root it runs as `postgres`.

postgres_start() {
  POSTGRES_DIR=$1; shift
  POSTGRES_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$POSTGRES_BIN/initdb" ] || { echo "postgres: PostgreSQL server binaries not found" >&2; return 1; }
  POSTGRES_AS=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres "$POSTGRES_DIR"
    POSTGRES_AS=(runuser -u postgres --)
  fi
  POSTGRES_PORT=""
  local candidate
  for _ in $(seq 1 50); do
    # Below the ephemeral range and clear of deploy/local's blocks (scripts/lib/ports.sh).
    candidate=$((29500 + RANDOM % 3000))
    (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null && continue
    python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$candidate" 2>/dev/null \
      && { POSTGRES_PORT=$candidate; break; }
  done
  [ -n "$POSTGRES_PORT" ] || { echo "postgres: no free port" >&2; return 1; }
  local settings=(-p "$POSTGRES_PORT" -k "$POSTGRES_DIR" -c listen_addresses=127.0.0.1 -c max_connections=300)
  local extra
  for extra in "$@"; do settings+=(-c "$extra"); done
  "${POSTGRES_AS[@]}" "$POSTGRES_BIN/initdb" -D "$POSTGRES_DIR/data" -A trust -U coffer --no-sync >"$POSTGRES_DIR/initdb.log" 2>&1 \
    || { cat "$POSTGRES_DIR/initdb.log" >&2; return 1; }
  "${POSTGRES_AS[@]}" "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" -w -t 30 \
    -o "${settings[*]}" start >/dev/null \
    || { cat "$POSTGRES_DIR/server.log" >&2; return 1; }
  POSTGRES_URL_BASE="postgresql://coffer@127.0.0.1:$POSTGRES_PORT"
}

postgres_createdb() {
  "${POSTGRES_AS[@]}" "$POSTGRES_BIN/createdb" -h 127.0.0.1 -p "$POSTGRES_PORT" -U coffer "$1"
}

postgres_stop() {
  [ -n "${POSTGRES_DIR:-}" ] || return 0
  "${POSTGRES_AS[@]}" "$POSTGRES_BIN/pg_ctl" -D "$POSTGRES_DIR/data" -m immediate stop >/dev/null 2>&1 || true
}
