package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/notary/notarytest"
)

func TestImportNotaryParsesGUNServerToAndFlags(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *importNotaryOptions
	cmd := newImportNotaryCmd(f, func(o *importNotaryOptions) error { got = o; return nil })
	err := execCmd(cmd, "docker.io/team/app", "--server", "https://notary.example.com", "--to", "r.example.com/team/app",
		"--root-cert", "root.crt", "--ca-cert", "ca.pem", "--role", "releases", "--key", "ci", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	r := got.req
	if r.GUN != "docker.io/team/app" || r.Server != "https://notary.example.com" || r.To != "r.example.com/team/app" ||
		r.RootCert != "root.crt" || r.CACert != "ca.pem" || r.Role != "releases" || r.Key != "ci" || !r.DryRun {
		t.Fatalf("request = %+v", r)
	}
}

func TestImportNotaryWithoutServerOrToIsAUsageError(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"docker.io/team/app", "--to", "r.example.com/team/app"},
		{"docker.io/team/app", "--server", "https://notary.example.com"},
		{"--server", "https://notary.example.com", "--to", "r.example.com/team/app"},
	} {
		f, _, _ := newTestFactory(nil)
		cmd := newImportNotaryCmd(f, func(o *importNotaryOptions) error { t.Fatal("ran"); return nil })
		if err := execCmd(cmd, args...); errkind.Of(err) != errkind.Input {
			t.Errorf("%q: %v, want a usage error", args, err)
		}
	}
}

// TestImportScripts runs testdata/import/*.txtar: the scripts of
// TestScripts plus
//
//	notarygen DIR GUN ROLE:TAG=IMAGE...  a Notary repository made by the
//	                                     notary library, signing for TAG the
//	                                     manifest IMAGE points at now
//	notaryserve [-tamper] DIR GUN        serve it in Notary's layout at $NOTARY;
//	                                     -tamper alters a hash in targets.json
//	digest REF                           print the digest REF points at
func TestImportScripts(t *testing.T) {
	t.Parallel()
	p := scriptParams("testdata/import")
	for k, v := range map[string]func(*testscript.TestScript, bool, []string){
		"notarygen":   cmdNotarygen,
		"notaryserve": cmdNotaryserve,
		"digest":      cmdDigest,
	} {
		p.Cmds[k] = v
	}
	testscript.Run(t, p)
}

func cmdNotarygen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: notarygen DIR GUN ROLE:TAG=IMAGE...")
	}
	var signs []string
	for _, a := range args[2:] {
		spec, image, ok := strings.Cut(a, "=")
		if !ok {
			ts.Fatalf("%q: want ROLE:TAG=IMAGE", a)
		}
		ref, err := name.ParseReference(image, name.Insecure)
		ts.Check(err)
		desc, err := remote.Head(ref)
		ts.Check(err)
		signs = append(signs, fmt.Sprintf("%s=%s:%d", spec, desc.Digest.Hex, desc.Size))
	}
	_, err := notarytest.GenerateDir(ts.MkAbs(args[0]), args[1], signs...)
	ts.Check(err)
}

func cmdNotaryserve(ts *testscript.TestScript, neg bool, args []string) {
	tamper := len(args) > 0 && args[0] == "-tamper"
	if tamper {
		args = args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: notaryserve [-tamper] DIR GUN")
	}
	fx, err := notarytest.Load(ts.MkAbs(args[0]), args[1])
	ts.Check(err)
	s := notarytest.NewServer(fx)
	if tamper {
		s.Set("targets", alterFirstHash(ts, fx.Files["targets"]))
	}
	srv := httptest.NewServer(s)
	ts.Defer(srv.Close)
	ts.Setenv("NOTARY", srv.URL)
}

// alterFirstHash replaces the sha256 of one target of a targets.json with
// zeros, leaving the signature as it was.
func alterFirstHash(ts *testscript.TestScript, b []byte) []byte {
	var doc struct {
		Signed struct {
			Targets map[string]struct {
				Hashes map[string]string `json:"hashes"`
			} `json:"targets"`
		} `json:"signed"`
	}
	ts.Check(json.Unmarshal(b, &doc))
	for _, t := range doc.Signed.Targets {
		zero := base64.StdEncoding.EncodeToString(make([]byte, 32))
		return bytes.Replace(b, []byte(t.Hashes["sha256"]), []byte(zero), 1)
	}
	ts.Fatalf("targets.json signs no target")
	return nil
}

func cmdDigest(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: digest REF")
	}
	ref, err := name.ParseReference(args[0], name.Insecure)
	ts.Check(err)
	desc, err := remote.Head(ref)
	ts.Check(err)
	fmt.Fprintln(ts.Stdout(), desc.Digest)
}
