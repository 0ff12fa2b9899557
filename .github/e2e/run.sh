#!/usr/bin/env bash
# End to end on a kind cluster whose images were loaded: brokers and a counting function, Kurier
# installed with `make install`, one trigger per broker, $MESSAGES numbered messages published to
# each broker; passes when the function received every one of them on each path.
set -euo pipefail
cd "$(dirname "$0")/../.."
MESSAGES="${MESSAGES:-1000}"

kubectl apply -f .github/e2e/brokers.yaml
for d in nats rabbitmq kafka pulsar function; do kubectl -n e2e rollout status "deploy/$d" --timeout=600s; done

make install
kubectl -n kurier-system rollout status deploy/kurier --timeout=300s

# Broker-side setup the triggers expect: a JetStream stream and a Kafka topic.
kubectl -n e2e run nats-setup --rm -i --restart=Never --image=natsio/nats-box:0.14.5 -- \
  nats --server nats://nats.e2e.svc.cluster.local:4222 stream add E2E --subjects e2e --defaults
kubectl -n e2e exec deploy/kafka -- /opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --create --if-not-exists --topic e2e --partitions 3

kubectl apply -f .github/e2e/triggers.yaml
for t in nats rabbitmq kafka pulsar; do kubectl -n e2e wait --for=condition=Ready "${t}trigger/$t" --timeout=300s; done

seq 1 "$MESSAGES" > /tmp/messages
kubectl -n e2e run nats-pub --rm -i --restart=Never --image=natsio/nats-box:0.14.5 -- \
  nats --server nats://nats.e2e.svc.cluster.local:4222 pub e2e '{{.Count}}' --count "$MESSAGES"
kubectl -n e2e exec -i deploy/kafka -- /opt/kafka/bin/kafka-console-producer.sh --bootstrap-server localhost:9092 --topic e2e < /tmp/messages
kubectl -n e2e exec deploy/pulsar -- bin/pulsar-client produce persistent://public/default/e2e -m "$(paste -sd, /tmp/messages)"
kubectl -n e2e exec -i deploy/rabbitmq -- sh -c 'while read n; do rabbitmqadmin -u e2e -p e2e-password publish routing_key=e2e payload="$n" >/dev/null; done' < /tmp/messages

expected="{\"/nats\":$MESSAGES,\"/rabbitmq\":$MESSAGES,\"/kafka\":$MESSAGES,\"/pulsar\":$MESSAGES}"
for _ in $(seq 1 120); do
  counts="$(kubectl -n e2e exec deploy/function -- wget -qO- http://127.0.0.1:8080/)"
  echo "delivered: $counts"
  if node -e 'const [a, b] = process.argv.slice(1).map(JSON.parse); process.exit(Object.keys(b).every((k) => a[k] === b[k]) ? 0 : 1)' "$counts" "$expected"; then
    echo "every message arrived: $counts"
    exit 0
  fi
  sleep 5
done
echo "not every message arrived after 10 minutes (expected $expected)" >&2
exit 1
