// Package testenv gives tests the services that scripts/test.sh started:
// a test asks for a service by its environment variable and is skipped when
// run by hand without it, but fails under `make test`, where every service
// must be there (SIGNET_TEST_REQUIRE_SERVICES=1).
package testenv

import (
	"os"
	"testing"
)

// Need returns the value of the environment variable that describes a
// service (for example SIGNET_TEST_REGISTRY=127.0.0.1:5055). When it is
// unset the test is skipped, or fails under `make test`.
func Need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("SIGNET_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is not set: scripts/test.sh should have started this service", name)
	}
	t.Skipf("%s not set; run under `make test` (scripts/test.sh) to start the service", name)
	return ""
}
