package main

import (
	"crypto/rand"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestFailedPushScripts runs testdata/pushfail/*.txtar, pushes that fail,
// once against the in-process registry and once against the distribution
// registry of scripts/test.sh. Besides the commands of TestScripts they
// have
//
//	R            a repository prefix of their own on that registry
//	tags REPO    print every tag of REPO with the digest it points at, one
//	             per line, sorted (the trust data's _tuf included)
func TestFailedPushScripts(t *testing.T) {
	t.Parallel()
	for _, reg := range []string{"in-process", "distribution"} {
		t.Run(reg, func(t *testing.T) {
			host := ""
			if reg == "distribution" {
				host = testenv.Need(t, "SIGNET_TEST_REGISTRY")
			}
			p := scriptParams("testdata/pushfail")
			p.Cmds["tags"] = cmdTags
			setup := p.Setup
			p.Setup = func(env *testscript.Env) error {
				if err := setup(env); err != nil {
					return err
				}
				h := host
				if h == "" {
					h = env.Getenv("REGISTRY")
				}
				var rnd [4]byte
				if _, err := rand.Read(rnd[:]); err != nil {
					return err
				}
				env.Setenv("R", fmt.Sprintf("%s/signet-pushfail/%x", h, rnd))
				return nil
			}
			testscript.Run(t, p)
		})
	}
}

func cmdTags(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: tags REPO")
	}
	repo, err := name.NewRepository(args[0], name.Insecure)
	ts.Check(err)
	tags, err := remote.List(repo)
	ts.Check(err)
	slices.Sort(tags)
	for _, tag := range tags {
		desc, err := remote.Head(repo.Tag(tag))
		ts.Check(err)
		fmt.Fprintf(ts.Stdout(), "%s %s\n", tag, desc.Digest)
	}
}
