package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/tools/release"
)

// TestStaticBuildScripts runs testdata/static/*.txtar against signet built
// as the static release build is (CGO_ENABLED=0, the release flags), instead
// of the test binary: the software-key job must work without PC/SC, and
// every YubiKey path must say that this build has no YubiKey support.
func TestStaticBuildScripts(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds signet")
	}
	testenv.Need(t, "SIGNET_TEST_REGISTRY")
	root, err := release.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	host := release.Target{OS: runtime.GOOS, Arch: runtime.GOARCH}
	if err := release.Build(ctx, root, host, "static-test", filepath.Join(bin, host.Exe())); err != nil {
		t.Fatal(err)
	}
	p := scriptParams("testdata/static")
	setup := p.Setup
	p.Setup = func(env *testscript.Env) error {
		if err := setup(env); err != nil {
			return err
		}
		// The static build comes first on PATH, before the test binary
		// testscript installs as signet.
		env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
		suffix := make([]byte, 4)
		rand.Read(suffix)
		name := "static/app-" + hex.EncodeToString(suffix)
		env.Setenv("REPONAME", name)
		env.Setenv("REPO", env.Getenv("REALREGISTRY")+"/"+name)
		return nil
	}
	testscript.Run(t, p)
}
