package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/notary"
	"github.com/signet-dev/signet/notary/notarytest"
	"github.com/signet-dev/signet/registry/registrytest"
	"github.com/signet-dev/signet/tuf/tuftest/tufjs"
)

// notarySign is notarygen's ROLE:TAG=SHA256HEX:SIZE for desc.
func notarySign(role, tag string, desc v1.Descriptor) string {
	return fmt.Sprintf("%s:%s=%s:%d", role, tag, desc.Digest.Hex, desc.Size)
}

func actions(res *app.ImportResult) map[string]app.ImportTag {
	out := map[string]app.ImportTag{}
	for _, it := range res.Tags {
		out[it.Tag] = it
	}
	return out
}

func verifyTag(t *testing.T, tag, root string, want v1.Descriptor) {
	t.Helper()
	res, err := app.Verify(context.Background(), newPerson(t).deps, app.VerifyRequest{Tag: tag, RootFile: root})
	if err != nil {
		t.Fatalf("verify %s: %v", tag, err)
	}
	if res.Digest != want.Digest.String() || res.Size != want.Size {
		t.Fatalf("verify %s = %s, want %s", tag, res.Digest, want.Digest)
	}
}

func TestImportSignsTheReleasedTagsThatTheRegistryStillServesAndReportsTheRest(t *testing.T) {
	t.Parallel()
	registrytest.EachRegistry(t, func(t *testing.T, host string) {
		ctx := context.Background()
		repo := uniqueRepo(t, host)
		pub := initRepo(t, repo)
		v1d := pushUnsigned(t, pub, repo+":v1")
		v2d := pushUnsigned(t, pub, repo+":v2")
		v3d := pushUnsigned(t, pub, repo+":v3")
		moved := pushUnsigned(t, pub, repo+":moved")
		gone := pushUnsigned(t, pub, repo+":other") // signed in Notary as "gone", never pushed so
		fx := notarytest.Generate(t, "docker.io/team/app",
			notarySign("targets/releases", "v1", v1d),
			notarySign("targets", "v2", v2d),
			notarySign("targets/alice", "v3", v3d),
			notarySign("targets/releases", "moved", moved),
			notarySign("targets", "gone", gone),
		)
		newer := pushUnsigned(t, pub, repo+":moved") // the tag changed after Notary signed it
		srv := notarytest.Serve(t, fx)
		before := currentDigest(t, tufTag(t, repo))

		req := app.ImportRequest{GUN: fx.GUN, Server: srv.URL, To: repo, RootCert: fx.RootCertFile, DryRun: true}
		dry, err := app.Import(ctx, pub.deps, req)
		if err != nil {
			t.Fatal(err)
		}
		if got := currentDigest(t, tufTag(t, repo)); got != before {
			t.Fatal("a dry run changed the trust data")
		}
		if a := actions(dry); a["v1"].Action != app.ActionImport || a["v2"].Action != app.ActionImport || dry.Imported != 0 || !dry.Pinned {
			t.Fatalf("dry run = %+v", dry)
		}

		req.DryRun = false
		res, err := app.Import(ctx, pub.deps, req)
		if err != nil {
			t.Fatal(err)
		}
		a := actions(res)
		if res.Imported != 2 || res.Skipped != 3 || a["v1"].Action != app.ActionImported || a["v1"].NotaryRole != "targets/releases" ||
			a["v2"].Action != app.ActionImported || a["v2"].NotaryRole != "targets" {
			t.Fatalf("import = %+v", res)
		}
		for tag, why := range map[string]string{
			"v3":    "signed only by targets/alice",
			"moved": "the registry serves " + newer.Digest.String(),
			"gone":  "not in the registry",
		} {
			if a[tag].Action != app.ActionSkip || !strings.Contains(a[tag].Reason, why) {
				t.Errorf("%s: %+v, want skipped because %q", tag, a[tag], why)
			}
		}
		root := rootFile(t, repo)
		verifyTag(t, repo+":v1", root, v1d)
		verifyTag(t, repo+":v2", root, v2d)
		for _, tag := range []string{"v3", "moved"} {
			_, err := app.Verify(ctx, newPerson(t).deps, app.VerifyRequest{Tag: repo + ":" + tag, RootFile: root})
			wantFail(t, err, errkind.Verification)
		}
	})
}

func TestImportRefusesANotaryResponseAlteredOnTheWayAndWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	d := pushUnsigned(t, pub, repo+":v1")
	evil := pushUnsigned(t, pub, repo+":evil")
	fx := notarytest.Generate(t, "docker.io/team/app", notarySign("targets", "v1", d))
	srv := notarytest.Serve(t, fx)
	proxy := notarytest.Proxy(t, srv.URL, func(path string, body []byte) []byte {
		if strings.HasSuffix(path, "/_trust/tuf/targets.json") {
			return replaceHash(t, body, d, evil)
		}
		return body
	})
	before := currentDigest(t, tufTag(t, repo))
	_, err := app.Import(ctx, pub.deps, app.ImportRequest{GUN: fx.GUN, Server: proxy, To: repo, RootCert: fx.RootCertFile})
	wantFail(t, err, errkind.Verification, "hash mismatch", "nothing imported")
	if !errors.Is(err, notary.ErrHashMismatch) {
		t.Fatalf("error %v is not a hash mismatch", err)
	}
	if got := currentDigest(t, tufTag(t, repo)); got != before {
		t.Fatal("a refused import changed the trust data")
	}
}

// replaceHash rewrites the base64 sha256 of from into that of to.
func replaceHash(t *testing.T, body []byte, from, to v1.Descriptor) []byte {
	t.Helper()
	old := b64hex(t, from.Digest.Hex)
	if !bytes.Contains(body, []byte(old)) {
		t.Fatalf("response does not contain %s", old)
	}
	return bytes.Replace(body, []byte(old), []byte(b64hex(t, to.Digest.Hex)), 1)
}

func b64hex(t *testing.T, h string) string {
	b := make([]byte, len(h)/2)
	if _, err := fmt.Sscanf(h, "%x", &b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// ggcrHost starts an in-process registry for one test.
// liveRootCert returns, as PEM, the root certificate the notary client
// made for gun.
func liveRootCert(t *testing.T, live *notarytest.Live, gun string) []byte {
	t.Helper()
	c, err := notary.New(live.URL)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Fetch(context.Background(), gun)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.RootCerts[0].Raw})
}

func TestImportWithoutAPinnedRootSaysItTrustsOnFirstUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	d := pushUnsigned(t, pub, repo+":v1")
	fx := notarytest.Generate(t, "docker.io/team/app", notarySign("targets/releases", "v1", d))
	res, err := app.Import(ctx, pub.deps, app.ImportRequest{GUN: fx.GUN, Server: notarytest.Serve(t, fx).URL, To: repo})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pinned || res.Imported != 1 {
		t.Fatalf("import = %+v", res)
	}
	if len(pub.notices) == 0 || !strings.Contains(pub.notices[len(pub.notices)-1], "first use") {
		t.Fatalf("notices %q do not announce trust on first use", pub.notices)
	}
}

func TestImportIntoADelegationOnlyWhenItExistsAndCoversTheTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	repo := uniqueRepo(t, registrytest.InProcess(t))
	pub := initRepo(t, repo)
	d := pushUnsigned(t, pub, repo+":v1")
	fx := notarytest.Generate(t, "docker.io/team/app", notarySign("targets/releases", "v1", d))
	srv := notarytest.Serve(t, fx)
	req := app.ImportRequest{GUN: fx.GUN, Server: srv.URL, To: repo, RootCert: fx.RootCertFile, Role: "releases"}
	_, err := app.Import(ctx, pub.deps, req)
	wantFail(t, err, errkind.Input, "no role releases")

	pub.generate("releaser")
	if _, err := app.DelegateAdd(ctx, pub.deps, app.DelegateAddRequest{Repository: repo, Name: "releases", KeyRefs: []string{"releaser"}, Paths: []string{"v*"}}); err != nil {
		t.Fatal(err)
	}
	res, err := app.Import(ctx, pub.deps, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Imported != 1 || res.Role != "releases" {
		t.Fatalf("import = %+v", res)
	}
	v, err := app.Verify(ctx, newPerson(t).deps, app.VerifyRequest{Tag: repo + ":v1", RootFile: rootFile(t, repo)})
	if err != nil || v.Role != "releases" {
		t.Fatalf("verify = %+v, %v", v, err)
	}
}

func TestImportIntoARepositoryWithoutTrustDataSaysToInitIt(t *testing.T) {
	t.Parallel()
	repo := uniqueRepo(t, registrytest.InProcess(t))
	p := newPerson(t)
	d := pushUnsigned(t, p, repo+":v1")
	fx := notarytest.Generate(t, "docker.io/team/app", notarySign("targets", "v1", d))
	_, err := app.Import(context.Background(), p.deps, app.ImportRequest{GUN: fx.GUN, Server: notarytest.Serve(t, fx).URL, To: repo})
	wantFail(t, err, errkind.Input, "signet init")
}

// TestImportFromARealNotaryServer creates a repository with the notary
// client on notary-server v0.7.0 (scripts/lib/notary.sh), for images on the
// real distribution registry, imports it, and checks every imported tag
// with signet verify and with tuf-js.
func TestImportFromARealNotaryServer(t *testing.T) {
	t.Parallel()
	live := notarytest.NeedLive(t)
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	script := testenv.Need(t, tufjs.EnvVar)
	ctx := context.Background()
	repo := uniqueRepo(t, host)
	pub := initRepo(t, repo)
	gun := strings.TrimPrefix(repo, host+"/")
	notaryCmd := live.Client(t)
	notaryCmd("init", gun)
	descs := map[string]v1.Descriptor{}
	for _, tag := range []string{"v1", "v2", "latest"} {
		descs[tag] = pushUnsigned(t, pub, repo+":"+tag)
		notaryCmd("addhash", gun, tag, fmt.Sprint(descs[tag].Size), "--sha256", descs[tag].Digest.Hex)
	}
	notaryCmd("publish", gun)
	newer := pushUnsigned(t, pub, repo+":latest") // moved after signing

	res, err := app.Import(ctx, pub.deps, app.ImportRequest{GUN: gun, Server: live.URL, To: repo})
	if err != nil {
		t.Fatal(err)
	}
	a := actions(res)
	if res.Imported != 2 || a["latest"].Action != app.ActionSkip || !strings.Contains(a["latest"].Reason, newer.Digest.String()) {
		t.Fatalf("import = %+v", res)
	}
	root := rootFile(t, repo)
	rootJSON, err := os.ReadFile(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v1", "v2"} {
		verifyTag(t, repo+":"+tag, root, descs[tag])
		r, err := tufjs.Verify(ctx, host, gun, "_tuf", rootJSON, tag, tufjs.WithScript(script))
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK || r.SHA256 != descs[tag].Digest.Hex || r.Length != descs[tag].Size {
			t.Fatalf("tuf-js on %s = %+v", tag, r)
		}
	}

	// A targets.json altered on the way is refused, and nothing is written.
	proxy := notarytest.Proxy(t, live.URL, func(path string, body []byte) []byte {
		if strings.HasSuffix(path, "/_trust/tuf/targets.json") {
			return replaceHash(t, body, descs["v1"], newer)
		}
		return body
	})
	before := currentDigest(t, tufTag(t, repo))
	_, err = app.Import(ctx, pub.deps, app.ImportRequest{GUN: gun, Server: proxy, To: repo})
	wantFail(t, err, errkind.Verification, "hash mismatch")
	if got := currentDigest(t, tufTag(t, repo)); got != before {
		t.Fatal("a refused import changed the trust data")
	}

	// The root certificate the notary client made pins the next import.
	certFile := filepath.Join(t.TempDir(), "root.crt")
	if err := os.WriteFile(certFile, liveRootCert(t, live, gun), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Import(ctx, pub.deps, app.ImportRequest{GUN: gun, Server: live.URL, To: repo, RootCert: certFile, DryRun: true}); err != nil {
		t.Fatalf("pinned import: %v", err)
	}
}
