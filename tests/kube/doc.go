// Package kube is the end-to-end test of `signet admission serve` against a
// real Kubernetes API server (kube-apiserver and etcd, started by
// scripts/lib/kube.sh) and the real distribution registry. It is a module
// of its own so that signet's go.mod never carries Kubernetes; its tests
// build signet from the repository (../..) and run it as the webhook, and
// check the manifests of deploy/ with the API server's strict validation.
//
//	cd tests/kube && go test ./...
//
// needs SIGNET_TEST_KUBE_APISERVER, SIGNET_TEST_KUBE_CA,
// SIGNET_TEST_KUBE_CLIENT_CERT, SIGNET_TEST_KUBE_CLIENT_KEY and
// SIGNET_TEST_REGISTRY; without them the tests are skipped, or fail under
// `make test` (SIGNET_TEST_REQUIRE_SERVICES=1). See docs/design.md §7.
package kube
