package admission_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/admission"
	"github.com/signet-dev/signet/internal/errkind"
)

// A root.json only has to parse as root metadata for a policy to load.
const minimalRoot = `{"signed":{"_type":"root","spec_version":"1.0.31","version":1,"expires":"2099-01-01T00:00:00Z","consistent_snapshot":true,"keys":{},"roles":{"root":{"keyids":[],"threshold":1},"targets":{"keyids":[],"threshold":1},"snapshot":{"keyids":[],"threshold":1},"timestamp":{"keyids":[],"threshold":1}}},"signatures":[]}`

// writePolicy writes policy as DIR/policy.yaml next to DIR/roots/team.json.
func writePolicy(t *testing.T, policy string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "roots"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "roots", "team.json"), []byte(minimalRoot), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestPolicyRelativeRootIsRelativeToThePolicyFileAndUnmatchedDefaultsToDeny(t *testing.T) {
	file := writePolicy(t, `
rules:
  - repositories: ["registry.example.com/team/*", "registry.example.com/base"]
    root: roots/team.json
  - repositories: ["registry.example.com/*/*"]
    root: roots/team.json
`)
	p, err := admission.LoadPolicy(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(file), "roots", "team.json"); p.Rules[0].Root != want {
		t.Fatalf("root %q, want %q", p.Rules[0].Root, want)
	}
	if p.Unmatched != admission.Deny {
		t.Fatalf("unmatched %q, want deny by default", p.Unmatched)
	}
	if r := p.Match("registry.example.com/team/app"); r != &p.Rules[0] {
		t.Fatalf("team/app matched %v, want the first rule", r)
	}
	if r := p.Match("registry.example.com/other/app"); r != &p.Rules[1] {
		t.Fatalf("other/app matched %v, want the second rule", r)
	}
	if r := p.Match("registry.example.com/team/app/deeper"); r != nil {
		t.Fatalf("a glob's * crossed a /: %v", r)
	}
}

func TestPolicyUnmatchedAllow(t *testing.T) {
	p, err := admission.LoadPolicy(writePolicy(t, "rules: [{repositories: [\"r.example/*\"], root: roots/team.json}]\nunmatched: allow\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Unmatched != admission.Allow {
		t.Fatalf("unmatched %q, want allow", p.Unmatched)
	}
}

func TestPolicyRefusesWhatItCannotEnforce(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "missing.json")
	for name, tc := range map[string]struct{ policy, want string }{
		"unknown field":    {"rules: [{repositories: [\"r.example/*\"], root: roots/team.json, roots: x}]", "unknown field"},
		"unknown top":      {"rules: [{repositories: [\"r.example/*\"], root: roots/team.json}]\nunmatch: allow", "unknown field"},
		"bad glob":         {"rules: [{repositories: [\"r.example/[a\"], root: roots/team.json}]", "bad pattern"},
		"empty glob":       {"rules: [{repositories: [\"\"], root: roots/team.json}]", "bad pattern"},
		"missing root":     {"rules: [{repositories: [\"r.example/*\"], root: roots/none.json}]", "none.json"},
		"missing abs root": {"rules: [{repositories: [\"r.example/*\"], root: " + abs + "}]", "missing.json"},
		"no root":          {"rules: [{repositories: [\"r.example/*\"]}]", "no root"},
		"not a root":       {"rules: [{repositories: [\"r.example/*\"], root: policy.yaml}]", "not a TUF root.json"},
		"no rules":         {"unmatched: deny", "no rules"},
		"no repositories":  {"rules: [{root: roots/team.json}]", "no repositories"},
		"bad unmatched":    {"rules: [{repositories: [\"r.example/*\"], root: roots/team.json}]\nunmatched: maybe", "want allow or deny"},
		"not yaml":         {"rules: [", "policy"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := admission.LoadPolicy(writePolicy(t, tc.policy))
			if err == nil {
				t.Fatalf("loaded, want an error saying %q", tc.want)
			}
			if errkind.Of(err) != errkind.Input {
				t.Fatalf("kind %v, want bad input: %v", errkind.Of(err), err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
}
