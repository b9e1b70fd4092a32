package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/registry/serve"
)

// testPassphrase is the keystore passphrase of every script. Scripts check
// that it never appears in any output.
const testPassphrase = "Corr3ct-Horse-Battery-Staple"

// TestMain lets scripts run signet as a command: the test binary re-executed
// as "signet" runs main's code in a process of its own, with the test
// seams of scriptSeams and the one of docs/security.md:
// SIGNET_TEST_ATTESTATION_CA, read here and never by the release binary,
// adds the virtual YubiKey's attestation CA.
func TestMain(m *testing.M) {
	signet := func() {
		os.Exit(run(withTestSeams(scriptSeams()), withTestAttestationCA(os.Getenv(envTestAttestationCA))))
	}
	testscript.Main(m, map[string]func(){
		"signet": signet,
		// signet docker install links docker-signet to the running signet.
		"docker-signet": signet,
	})
}

// scriptSeams are the lower costs of the signet command in tests
// (docs/security.md, "Test seams"): key files at scrypt N=2^15 (the least
// the key file format accepts) instead of 2^16, and no settle floor after
// a publish, since no script or process test races two publishers (the
// races are internal/app's, at the product's settle).
func scriptSeams() testSeams {
	return testSeams{
		keystore: []keystore.Option{keystore.WithKDFStrength(encrypted.Legacy)},
		registry: []registry.Option{registry.WithSettleDelay(0)},
	}
}

var updateScripts = flag.Bool("update-scripts", false, "rewrite the cmp files of testdata/*.txtar with the actual output")

// TestScripts runs the end-to-end scripts of testdata/*.txtar against the
// signet binary, each with its own signet home and in-process registry.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, scriptParams("testdata"))
}

// scriptParams is the harness every signet script runs in (see scriptSetup
// and scriptCmds).
func scriptParams(dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		Setup:               scriptSetup,
		Condition:           scriptCondition,
		Cmds:                scriptCmds(),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *updateScripts,
	}
}

// scriptSetup gives each script:
//
//	SIGNET_HOME         a fresh signet home, $WORK/.signet
//	SIGNET_PASSPHRASE   the keystore passphrase (testPassphrase)
//	REGISTRY            host:port of an in-process registry (plain HTTP)
//	REALREGISTRY        host:port of the distribution registry that
//	                    scripts/test.sh started (SIGNET_TEST_REGISTRY), when set
//	UNIQUE              random hex for repository names on REALREGISTRY
//
//	CARD1, CARD2        serials of the virtual YubiKeys (condition [pcsc]),
//	                    driven with the card command (script_card_test.go),
//	                    and PCSCLITE_CSOCK_NAME, the socket of the test pcscd
//	DOCKER_HOST, DOCKER_CONFIG  the dockerd of scripts/test.sh and a docker
//	                    config of the script's own (condition [dockerd];
//	                    script_docker_test.go)
//
// Scripts that need the real registry start with
// `[!realregistry] skip 'needs scripts/test.sh'` (see scriptCondition).
func scriptSetup(env *testscript.Env) error {
	env.Setenv("SIGNET_HOME", filepath.Join(env.WorkDir, ".signet"))
	env.Setenv("SIGNET_PASSPHRASE", testPassphrase)
	h, err := serve.New()
	if err != nil {
		return err
	}
	srv := httptest.NewServer(h)
	env.Defer(srv.Close)
	env.Setenv("REGISTRY", strings.TrimPrefix(srv.URL, "http://"))
	if real := os.Getenv("SIGNET_TEST_REGISTRY"); real != "" {
		env.Setenv("REALREGISTRY", real)
		// A repository path of the script's own, so that runs sharing
		// the registry (or a run after another) never meet.
		var rnd [4]byte
		_, _ = rand.Read(rnd[:])
		env.Setenv("UNIQUE", fmt.Sprintf("%x", rnd))
	}
	if os.Getenv("SIGNET_TEST_PCSC") != "" {
		env.Setenv("CARD1", os.Getenv("SIGNET_TEST_PIVSIM_SERIAL"))
		env.Setenv("CARD2", os.Getenv("SIGNET_TEST_PIVSIM_SERIAL2"))
		env.Setenv("SIGNET_TEST_ATTESTATION_CA", os.Getenv("SIGNET_TEST_ATTESTATION_CA"))
		// The test pcscd runs beside the system's (scripts/lib/pcsc.sh):
		// libpcsclite finds its socket through this variable, which
		// testscript does not pass on by itself.
		if sock := os.Getenv("PCSCLITE_CSOCK_NAME"); sock != "" {
			env.Setenv("PCSCLITE_CSOCK_NAME", sock)
		}
	}
	dockerSetup(env)
	return nil
}

// scriptCondition adds [realregistry]: scripts/test.sh started a
// distribution registry (SIGNET_TEST_REGISTRY). Under `make test`
// (SIGNET_TEST_REQUIRE_SERVICES=1) its absence is an error, not a skip.
func scriptCondition(cond string) (bool, error) {
	switch cond {
	case "pcsc":
		if os.Getenv("SIGNET_TEST_PCSC") != "" {
			return true, nil
		}
		if os.Getenv("SIGNET_TEST_REQUIRE_SERVICES") == "1" {
			return false, errors.New("SIGNET_TEST_PCSC is not set: scripts/test.sh should have started pcscd and the virtual YubiKeys")
		}
		return false, nil
	case "realregistry":
		if os.Getenv("SIGNET_TEST_REGISTRY") != "" {
			return true, nil
		}
		if os.Getenv("SIGNET_TEST_REQUIRE_SERVICES") == "1" {
			return false, errors.New("SIGNET_TEST_REGISTRY is not set: scripts/test.sh should have started the registry")
		}
		return false, nil
	case "dockerd":
		return dockerCondition()
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// scriptCmds are the commands scripts have besides testscript's own:
//
//	exits CODE PROGRAM [ARGS...]   run PROGRAM, fail unless it exits with CODE;
//	                               stdout and stderr are kept for the checks after it
//	mkroot [-expired] [-unsigned] [-version N] FILE
//	                               write a TUF root.json signed by a new ed25519 key
//	mkimage oci DIR | tar FILE | push REF
//	                               a new random image (see cmdMkimage)
//	dockerimage REF FILE | ! dockerimage REF
//	                               what the docker daemon has (see cmdDockerImage)
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		"exits":   cmdExits,
		"mkroot":  cmdMkroot,
		"mkimage": cmdMkimage,
		"card":    cmdCard,
		"sleep":   cmdSleep,
		"tufjs":   cmdTufjs,
		// script_docker_test.go
		"dockerimage": cmdDockerImage,
		// hostile_test.go
		"hostile":   cmdHostile,
		"nocontrol": cmdNoControl,
	}
}

func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exits")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("running %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

func cmdMkroot(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! mkroot")
	}
	fs := flag.NewFlagSet("mkroot", flag.ContinueOnError)
	expired := fs.Bool("expired", false, "expired a day ago")
	unsigned := fs.Bool("unsigned", false, "no signature")
	version := fs.Int64("version", 1, "root version")
	ts.Check(fs.Parse(args))
	if fs.NArg() != 1 {
		ts.Fatalf("usage: mkroot [-expired] [-unsigned] [-version N] FILE")
	}
	expires := time.Now().UTC().Add(365 * 24 * time.Hour).Truncate(time.Second)
	if *expired {
		expires = time.Now().UTC().Add(-24 * time.Hour).Truncate(time.Second)
	}
	data, err := makeRoot(expires, *version, !*unsigned)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(fs.Arg(0)), data, 0o644))
}

// makeRoot returns a root.json whose four roles share one new ed25519 key,
// signed by it when sign is set.
func makeRoot(expires time.Time, version int64, sign bool) ([]byte, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	root := metadata.Root(expires)
	root.Signed.Version = version
	root.Signed.ConsistentSnapshot = true
	key, err := metadata.KeyFromPublicKey(pub)
	if err != nil {
		return nil, err
	}
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		if err := root.Signed.AddKey(key, role); err != nil {
			return nil, err
		}
	}
	if sign {
		s, err := signature.LoadSigner(priv, crypto.Hash(0))
		if err != nil {
			return nil, err
		}
		if _, err := root.Sign(s); err != nil {
			return nil, err
		}
	}
	return root.ToBytes(true)
}
