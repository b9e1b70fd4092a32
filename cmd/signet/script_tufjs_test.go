package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/tuf/tuftest/tufjs"
)

// cmdTufjs checks a tag with tuf-js, the independent TUF client, trusting
// the repository's 1.root.json and walking the root chain from there:
//
//	tufjs R:T          fail unless tuf-js verifies T
//	! tufjs R:T        fail unless tuf-js refuses it
//
// It needs SIGNET_TEST_TUFJS (scripts/test.sh); without it the script fails
// under make test and the command is a skip otherwise.
func cmdTufjs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: tufjs R:T")
	}
	script := os.Getenv(tufjs.EnvVar)
	if script == "" {
		if os.Getenv("SIGNET_TEST_REQUIRE_SERVICES") == "1" {
			ts.Fatalf("%s is not set: scripts/test.sh should have set it", tufjs.EnvVar)
		}
		ts.Logf("tufjs: %s not set; skipping the tuf-js check", tufjs.EnvVar)
		return
	}
	tag, err := registry.ParseTag(args[0])
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := registry.New()
	ts.Check(err)
	m, err := client.Metadata(ctx, registry.MetadataRef(tag.Context()))
	ts.Check(err)
	root, err := m.ReadFile(ctx, "1.root.json", 1<<20)
	ts.Check(err)
	res, err := tufjs.Verify(ctx, tag.RegistryStr(), tag.RepositoryStr(), registry.MetadataTag, root, tag.TagStr(), tufjs.WithScript(script))
	ts.Check(err)
	switch {
	case res.OK && neg:
		ts.Fatalf("tuf-js accepted %s (sha256 %s)", args[0], res.SHA256)
	case !res.OK && !neg:
		ts.Fatalf("tuf-js refused %s: %s", args[0], strings.TrimSpace(res.Error))
	}
}
