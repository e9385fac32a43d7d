# Ports for the deployments the test scripts and the benchmark start with deploy/local: below the
# kernel's ephemeral range (32768 and up here), so that no outgoing connection holds one first, and
# each checked free by binding it. Source it; `pick_deployment_ports` sets COFFER_PORT and
# COFFER_DB_PORT.

# Whether 127.0.0.1:$1 can be bound now.
port_free() {
  python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}

# Picks an HTTPS block (20000-23999: the transaction processes, metrics at +1000) and a ZeroMQ block
# (25000-28999: the database processes, health at +100, metrics at +200) whose first two ports of
# each kind are free.
pick_deployment_ports() {
  local https db port ok
  for _ in $(seq 1 50); do
    https=$((20000 + RANDOM % 4000)) db=$((25000 + RANDOM % 4000)) ok=1
    for port in $https $((https + 1)) $((https + 1000)) $((https + 1001)) $db $((db + 1)) $((db + 100)) $((db + 101)) $((db + 200)) $((db + 201)); do
      port_free "$port" || { ok=0; break; }
    done
    if [ "$ok" = 1 ]; then
      export COFFER_PORT=$https COFFER_DB_PORT=$db
      return 0
    fi
  done
  echo "no free block of ports for a deployment" >&2
  return 1
}
