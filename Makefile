# Kurier — common tasks. `make install` needs kubectl and helm pointed at a cluster.
NAMESPACE ?= kurier-system
RELEASE   ?= kurier

.PHONY: setup build test render install uninstall images

setup:
	npm ci

build: setup
	npm run build

test: setup
	npm test

# Renders the dispatcher Deployment of every example trigger.
render: setup
	npx kurier render -f examples/

install:
	kubectl apply --server-side -f crd.yaml
	helm upgrade --install $(RELEASE) chart/ --namespace $(NAMESPACE) --create-namespace

uninstall:
	helm uninstall $(RELEASE) --namespace $(NAMESPACE)
	kubectl delete -f crd.yaml
