package main

import (
	"slices"
	"testing"

	"github.com/signet-dev/signet/internal/errkind"
)

func TestRotateParsesRoleKeysThresholdAndStage(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *rotateOptions
	cmd := newRotateCmd(f, func(o *rotateOptions) error { got = o; return nil })
	err := execCmd(cmd, "127.0.0.1:5000/team/app", "root", "--add-key", "file:alice.pub", "--add-key", "yubikey:123/9c",
		"--remove-key", "3fa2b1c4", "--remove-key", "old-root", "--threshold", "2", "--stage", "c.json")
	if err != nil {
		t.Fatal(err)
	}
	r := got.req
	if r.Repository != "127.0.0.1:5000/team/app" || r.Role != "root" || r.Threshold != 2 || r.Stage != "c.json" ||
		!slices.Equal(r.AddKeys, []string{"file:alice.pub", "yubikey:123/9c"}) || !slices.Equal(r.RemoveKeys, []string{"3fa2b1c4", "old-root"}) {
		t.Fatalf("request = %+v", r)
	}
}

func TestRotateRefusesAZeroOrNegativeThresholdAndMissingRole(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"r.example/app", "root", "--threshold", "0"},
		{"r.example/app", "root", "--threshold", "-1"},
		{"r.example/app"},
	} {
		f, _, _ := newTestFactory(nil)
		cmd := newRotateCmd(f, func(*rotateOptions) error { t.Fatal("ran"); return nil })
		if err := execCmd(cmd, args...); errkind.Of(err) != errkind.Input {
			t.Fatalf("%v: err = %v", args, err)
		}
	}
}

func TestCeremonyCommandsParseFileAndKey(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var sign *ceremonySignOptions
	if err := execCmd(newCeremonySignCmd(f, func(o *ceremonySignOptions) error { sign = o; return nil }), "c.json", "--key", "alice"); err != nil {
		t.Fatal(err)
	}
	if sign.req.File != "c.json" || sign.req.Key != "alice" {
		t.Fatalf("sign = %+v", sign.req)
	}
	if err := execCmd(newCeremonySignCmd(f, func(*ceremonySignOptions) error { return nil }), "c.json"); errkind.Of(err) != errkind.Input {
		t.Fatalf("sign without --key: %v", err)
	}
	var status *ceremonyStatusOptions
	if err := execCmd(newCeremonyStatusCmd(f, func(o *ceremonyStatusOptions) error { status = o; return nil }), "c.json"); err != nil || status.file != "c.json" {
		t.Fatalf("status: %+v %v", status, err)
	}
	var pub *ceremonyPublishOptions
	if err := execCmd(newCeremonyPublishCmd(f, func(o *ceremonyPublishOptions) error { pub = o; return nil }), "c.json"); err != nil || pub.file != "c.json" {
		t.Fatalf("publish: %+v %v", pub, err)
	}
	if err := execCmd(newCeremonyPublishCmd(f, func(*ceremonyPublishOptions) error { return nil })); errkind.Of(err) != errkind.Input {
		t.Fatalf("publish without FILE: %v", err)
	}
}
