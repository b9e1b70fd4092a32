package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
)

func TestDelegateAddParsesRepeatedKeysPathsThresholdAndTerminating(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *delegateAddOptions
	cmd := newDelegateAddCmd(f, func(o *delegateAddOptions) error { got = o; return nil })
	err := execCmd(cmd, "127.0.0.1:5000/team/app", "ci-release", "--key", "ci", "--key", "yubikey:123/82",
		"--public-key", "bob.pub", "--paths", "v*", "--paths", "release-*", "--threshold", "2", "--terminating")
	if err != nil {
		t.Fatal(err)
	}
	r := got.req
	if r.Repository != "127.0.0.1:5000/team/app" || r.Name != "ci-release" || !slices.Equal(r.KeyRefs, []string{"ci", "yubikey:123/82"}) ||
		!slices.Equal(r.PublicKeyFiles, []string{"bob.pub"}) || !slices.Equal(r.Paths, []string{"v*", "release-*"}) || r.Threshold != 2 || !r.Terminating {
		t.Fatalf("request = %+v", r)
	}
}

func TestDelegateAddDefaultsToThresholdOneAndNoPaths(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *delegateAddOptions
	cmd := newDelegateAddCmd(f, func(o *delegateAddOptions) error { got = o; return nil })
	if err := execCmd(cmd, "r.example/app", "ci", "--public-key", "ci.pub"); err != nil {
		t.Fatal(err)
	}
	if got.req.Threshold != 1 || got.req.Paths != nil || got.req.Terminating {
		t.Fatalf("request = %+v (paths default to app.DefaultDelegationPaths %v there)", got.req, app.DefaultDelegationPaths)
	}
}

func TestDelegateAddWithoutKeysOrWithAZeroThresholdIsAUsageError(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"r.example/app", "ci"},
		{"r.example/app", "ci", "--key", "ci", "--threshold", "0"},
		{"r.example/app", "--key", "ci"},
		{"r.example/app", "ci", "extra", "--key", "ci"},
	} {
		f, _, _ := newTestFactory(nil)
		cmd := newDelegateAddCmd(f, func(o *delegateAddOptions) error { t.Fatalf("ran with %q", args); return nil })
		if err := execCmd(cmd, args...); errkind.Of(err) != errkind.Input {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
}

func TestDelegateRemoveAndListParseTheirArguments(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var rm *delegateRemoveOptions
	if err := execCmd(newDelegateRemoveCmd(f, func(o *delegateRemoveOptions) error { rm = o; return nil }), "r.example/app", "ci"); err != nil {
		t.Fatal(err)
	}
	if rm.req.Repository != "r.example/app" || rm.req.Name != "ci" {
		t.Fatalf("remove request = %+v", rm.req)
	}
	var ls *delegateListOptions
	if err := execCmd(newDelegateListCmd(f, func(o *delegateListOptions) error { ls = o; return nil }), "r.example/app"); err != nil {
		t.Fatal(err)
	}
	if ls.repo != "r.example/app" {
		t.Fatalf("list repo = %q", ls.repo)
	}
	for _, c := range []struct {
		run  func() error
		what string
	}{
		{func() error { return execCmd(newDelegateRemoveCmd(f, nil), "r.example/app") }, "remove without NAME"},
		{func() error { return execCmd(newDelegateListCmd(f, nil)) }, "list without R"},
	} {
		if err := c.run(); errkind.Of(err) != errkind.Input {
			t.Errorf("%s: err = %v, want a usage error", c.what, err)
		}
	}
}

func TestDelegationTableNamesKeysPathsAndSaysWhenThereAreNone(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := writeDelegations(&buf, &app.DelegateListResult{Repository: "r.example/app"}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "r.example/app has no delegations.\n" {
		t.Fatalf("empty list = %q", buf.String())
	}
	buf.Reset()
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	err := writeDelegations(&buf, &app.DelegateListResult{Repository: "r.example/app", Delegations: []app.DelegationInfo{{
		Name: "release", Paths: []string{"v*", "release-*"}, Threshold: 2, Signatures: 1, Expires: exp, Targets: 4000, Bins: true,
		Keys: []app.KeyInfo{{KeyID: strings.Repeat("a", 64), Name: "alice"}, {KeyID: strings.Repeat("b", 64)}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("table = %q", buf.String())
	}
	want := []string{"release", "v*,release-*", "2", "1", strings.Repeat("a", 16), "(alice),", strings.Repeat("b", 16), "false", "4000", "(in", "bins)", "2027-01-02T03:04:05Z"}
	if got := strings.Fields(lines[1]); !slices.Equal(got, want) {
		t.Fatalf("row = %q, want %q", got, want)
	}
}
