package app_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry/registrytest"
)

// copyFile hands a staged file to someone else, as a USB stick or mail does.
func copyFile(t *testing.T, from string) string {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), filepath.Base(from))
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return to
}

func TestAStagedRootCeremonyIsSignedFromThreeHomesAndPublishedAtThreshold(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		push(t, pub, repo+":v1")
		root1 := rootFile(t, repo)

		// Three people with keys of their own; the publisher gets their
		// public keys.
		alice, bob, carol := newPerson(t), newPerson(t), newPerson(t)
		alice.generate("alice")
		bob.generate("bob")
		carol.generate("carol")
		file := filepath.Join(t.TempDir(), "rotate-root.json")
		res, err := app.Rotate(ctx, pub.deps, app.RotateRequest{Repository: repo, Role: "root",
			AddKeys:    []string{"file:" + exportPublic(t, alice, "alice"), "file:" + exportPublic(t, bob, "bob"), "file:" + exportPublic(t, carol, "carol")},
			RemoveKeys: []string{"root"}, Threshold: 2, Stage: file})
		if err != nil {
			t.Fatalf("stage: %v", err)
		}
		// The publisher's old root key signed when staging (turn 1 of 3).
		st := res.Ceremony
		if res.Staged != file || st.Complete || len(st.Thresholds) != 2 || !st.Thresholds[0].Met || st.Thresholds[1].Signed != 0 || st.Thresholds[1].Threshold != 2 {
			t.Fatalf("staged status %+v", st)
		}
		if !strings.Contains(strings.Join(st.Changes, "; "), "threshold 1 -> 2") {
			t.Fatalf("changes %q", st.Changes)
		}
		// Nothing is published yet.
		ins, err := app.Inspect(ctx, pub.deps, repo)
		if err != nil || ins.Roles[0].Version != 1 {
			t.Fatalf("staging published something: %+v %v", ins, err)
		}

		// Alice signs on her machine, offline (turn 2); her home knows her
		// key by name.
		aliceFile := copyFile(t, file)
		st, err = app.CeremonySign(ctx, alice.deps, app.CeremonySignRequest{File: aliceFile, Key: "alice"})
		if err != nil {
			t.Fatalf("alice signs: %v", err)
		}
		if st.Thresholds[1].Signed != 1 || len(st.SignedNow) != 1 || st.SignedNow[0] != "root" || !namedSigned(st, "alice") {
			t.Fatalf("after alice: %+v", st)
		}
		_, err = app.CeremonySign(ctx, alice.deps, app.CeremonySignRequest{File: aliceFile, Key: "alice"})
		wantFail(t, err, errkind.Input, "already signed")

		// Publishing at 1 of 2 is refused.
		_, err = app.CeremonyPublish(ctx, pub.deps, aliceFile)
		wantFail(t, err, errkind.Verification, "ceremony incomplete", "1 of 2")

		// A file edited after signing is refused everywhere.
		edited := editStaged(t, aliceFile)
		_, err = app.CeremonyStatusOf(ctx, bob.deps, edited)
		wantFail(t, err, errkind.Verification, "the staged metadata was changed after it was signed")
		_, err = app.CeremonySign(ctx, bob.deps, app.CeremonySignRequest{File: edited, Key: "bob"})
		wantFail(t, err, errkind.Verification, "the staged metadata was changed after it was signed")
		_, err = app.CeremonyPublish(ctx, pub.deps, edited)
		wantFail(t, err, errkind.Verification, "the staged metadata was changed after it was signed")

		// A key the ceremony does not need is refused.
		stranger := newPerson(t)
		stranger.generate("mallory")
		_, err = app.CeremonySign(ctx, stranger.deps, app.CeremonySignRequest{File: copyFile(t, aliceFile), Key: "mallory"})
		wantFail(t, err, errkind.Input, "not one this ceremony needs")

		// Bob signs (turn 3): 2 of 2, and it publishes.
		bobFile := copyFile(t, aliceFile)
		if st, err = app.CeremonySign(ctx, bob.deps, app.CeremonySignRequest{File: bobFile, Key: "bob"}); err != nil || !st.Complete {
			t.Fatalf("bob signs: %+v %v", st, err)
		}
		out, err := app.CeremonyPublish(ctx, pub.deps, bobFile)
		if err != nil {
			t.Fatalf("publish at 2 of 2: %v", err)
		}
		if out.RootVersion != 2 {
			t.Fatalf("published %+v", out)
		}
		if _, err := pinnedVerify(t, repo+":v1", root1); err != nil {
			t.Fatalf("client pinned to root 1 after the ceremony: %v", err)
		}
		// Once published, the ceremony is spent.
		_, err = app.CeremonyPublish(ctx, pub.deps, bobFile)
		wantFail(t, err, errkind.Input, "moved on")
	})
}

func TestStagingRefusesToOverwriteAFile(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		file := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(file, []byte("signatures"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := app.Rotate(context.Background(), pub.deps, app.RotateRequest{Repository: repo, Role: "root", Stage: file})
		wantFail(t, err, errkind.Input, "already exists")
	})
}

func TestCeremonyFilesThatAreNotCeremoniesAreInputErrors(t *testing.T) {
	t.Parallel()
	p := newPerson(t)
	dir := t.TempDir()
	for name, content := range map[string]string{"junk.json": "{not json", "other.json": `{"type":"x"}`} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := app.CeremonyStatusOf(context.Background(), p.deps, path)
		wantFail(t, err, errkind.Input, "staged ceremony")
	}
	_, err := app.CeremonyStatusOf(context.Background(), p.deps, filepath.Join(dir, "missing.json"))
	wantFail(t, err, errkind.Input, "reading the ceremony")
}

func namedSigned(st *app.CeremonyStatus, name string) bool {
	for _, th := range st.Thresholds {
		for _, k := range th.Keys {
			if k.Name == name && k.Signed {
				return true
			}
		}
	}
	return false
}

// editStaged changes the proposed root's expiry in a copy of a signed
// staged file.
func editStaged(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]any
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	signed := file["proposed"].(map[string]any)["root"].(map[string]any)["signed"].(map[string]any)
	signed["expires"] = "2099-01-01T00:00:00Z"
	out, _ := json.Marshal(file)
	to := filepath.Join(t.TempDir(), "edited.json")
	if err := os.WriteFile(to, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return to
}
