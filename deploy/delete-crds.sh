#!/usr/bin/env bash
# make deletecrd: deletes every trigger, then the Kurier CRDs.
# Triggers go first, while the controller still runs: a trigger whose Deployment lives in another
# namespace keeps the finalizer kurier.dev/cleanup until the controller has deleted that Deployment,
# and a CRD, like a namespace, is not gone before its last object is.
# Environment: CONFIRM=yes skips the question; DELETE_TIMEOUT (default 60s) bounds the wait for the
# triggers; FORCE_FINALIZERS=yes removes the finalizers of triggers still waiting after it.
set -euo pipefail
cd "$(dirname "$0")/.."
TYPES=(kafkatriggers pulsartriggers natstriggers rabbitmqtriggers crontriggers)

served() { kubectl get crd "$1.kurier.dev" >/dev/null 2>&1; }
list() { # KIND NAMESPACE NAME per line, every served type
  for t in "${TYPES[@]}"; do
    served "$t" || continue
    kubectl get "$t.kurier.dev" --all-namespaces --ignore-not-found \
      -o go-template='{{range .items}}{{.kind}} {{.metadata.namespace}} {{.metadata.name}} {{range .metadata.finalizers}}{{.}},{{end}}{{"\n"}}{{end}}'
  done
}

echo 'WARNING: deleting the Kurier CRDs deletes every KafkaTrigger, PulsarTrigger, NATSTrigger, RabbitMQTrigger and CronTrigger in every namespace, and with them their dispatcher Deployments.'
echo "triggers that would be deleted: $(list | grep -c . || true)"
if [ "${CONFIRM:-}" != yes ]; then
  printf 'type yes to delete them: '
  read -r answer
  [ "$answer" = yes ] || { echo 'make deletecrd: nothing deleted'; exit 1; }
fi

for t in "${TYPES[@]}"; do
  served "$t" && kubectl delete "$t.kurier.dev" --all --all-namespaces --ignore-not-found --wait=false >/dev/null
done
deadline=$(( $(date +%s) + $(echo "${DELETE_TIMEOUT:-60s}" | sed 's/s$//') ))
while [ -n "$(list)" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 1; done

left=$(list)
if [ -n "$left" ]; then
  echo "make deletecrd: these triggers still wait for the controller to remove their finalizer kurier.dev/cleanup (it deletes their Deployment in another namespace first):" >&2
  echo "$left" | sed 's/^/  /' >&2
  if [ "${FORCE_FINALIZERS:-}" != yes ]; then
    echo 'make deletecrd: start the controller (make install) and run this again, or run it with FORCE_FINALIZERS=yes to remove the finalizers; their Deployments in other namespaces then stay behind (kubectl get deployments --all-namespaces -l app.kubernetes.io/managed-by=kurier)' >&2
    exit 1
  fi
  echo "$left" | while read -r kind ns name _; do
    kubectl patch "$(echo "$kind" | tr '[:upper:]' '[:lower:]')s.kurier.dev" "$name" -n "$ns" --type=merge -p '{"metadata":{"finalizers":null}}'
  done
  echo 'make deletecrd: finalizers removed; Deployments Kurier made that may be left behind:' >&2
  kubectl get deployments --all-namespaces -l app.kubernetes.io/managed-by=kurier >&2 || true
fi
kubectl delete --ignore-not-found -f crd.yaml
