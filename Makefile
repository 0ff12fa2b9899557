# Kurier — common tasks. `make install` needs kubectl and helm pointed at a cluster.
NAMESPACE ?= kurier-system
RELEASE   ?= kurier

.PHONY: setup build test render demo install uninstall sync-chart

setup:
	npm ci

build: setup
	npm run build

test: setup
	npm test

# The main job end to end on this machine (needs NATS with JetStream on 127.0.0.1:4222).
demo: setup
	npx kurier demo

# Renders the dispatcher Deployment of every example trigger.
render: setup
	npx kurier render -f examples/ --allow-cross-namespace

install:
	kubectl apply --server-side -f crd.yaml
	helm upgrade --install $(RELEASE) chart/ --namespace $(NAMESPACE) --create-namespace

uninstall:
	helm uninstall $(RELEASE) --namespace $(NAMESPACE)
	kubectl delete -f crd.yaml

# The chart carries copies of templates/ and crd.yaml (Helm reads only files inside the chart);
# test/chart checks they are identical.
sync-chart:
	rm -rf chart/files/templates && mkdir -p chart/files chart/crds
	cp -r templates chart/files/templates && rm -f chart/files/templates/policy.yaml
	cp crd.yaml chart/crds/crd.yaml
