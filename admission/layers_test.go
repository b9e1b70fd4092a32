package admission_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The webhook is a library: commands import it, never the other way
// round (docs/design.md §4).
func TestAdmissionImportsNoCommandCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/signet-dev/signet/admission").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/signet-dev/signet/cmd/") || strings.HasPrefix(pkg, "github.com/spf13/cobra") {
			t.Fatalf("admission depends on %s", pkg)
		}
	}
}
