#!/usr/bin/env bash
# A local scale-out demo on 127.0.0.1 (docs/scale-out.md):
#   examples/node/cluster.sh servers   three nats-server processes, one JetStream cluster
#                                      (clients on ports 4222-4224, routes on 6222-6224)
#   examples/node/cluster.sh nodes     three chatroute-node processes serving 50 sites (R=3)
#   examples/node/cluster.sh stop      stops what the two commands above started
# State, configs, logs and PIDs live in ${CHATROUTE_CLUSTER_DIR:-/tmp/chatroute-cluster}.
# CHATROUTE_NODE names the chatroute-node binary (default: the dev build's).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${CHATROUTE_CLUSTER_DIR:-/tmp/chatroute-cluster}
node_bin=${CHATROUTE_NODE:-build/dev/examples/node/chatroute-node}
urls=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224
mkdir -p "$dir"

case "${1:-}" in
servers)
  for i in 1 2 3; do
    cat > "$dir/s$i.conf" <<EOF
server_name: s$i
listen: 127.0.0.1:$((4221 + i))
jetstream { store_dir: "$dir/s$i" }
cluster {
  name: chatroute
  listen: 127.0.0.1:$((6221 + i))
  routes: [nats-route://127.0.0.1:6222, nats-route://127.0.0.1:6223, nats-route://127.0.0.1:6224]
}
EOF
    nats-server -c "$dir/s$i.conf" >> "$dir/s$i.log" 2>&1 &
    echo $! > "$dir/s$i.pid"
  done
  echo "NATS cluster: $urls (logs in $dir)"
  ;;
nodes)
  for i in 1 2 3; do
    "$node_bin" run --servers "$urls" --node "n$i" --sites 50 --replicas 3 >> "$dir/n$i.log" 2>&1 &
    echo $! > "$dir/n$i.pid"
  done
  echo "nodes n1 n2 n3 serve site-000..site-049 (logs: $dir/n*.log)"
  echo "try: $node_bin drive --servers $urls --sites 50 --seconds 10"
  ;;
stop)
  for name in n1 n2 n3 s1 s2 s3; do
    if [ -f "$dir/$name.pid" ]; then
      kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
  ;;
*)
  sed -n '2,9p' "$0"
  exit 2
  ;;
esac
