package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/keystore"
)

// signetRun runs the signet binary with env and returns its exit code,
// stdout and stderr.
func signetRun(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	bin, err := exec.LookPath("signet")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// fastHome makes a signet home whose master key uses the fast test KDF.
func fastHome(t *testing.T, dir string) string {
	t.Helper()
	home := filepath.Join(dir, "home")
	pass := func(context.Context, keystore.PassphraseRequest) ([]byte, error) { return []byte(testPassphrase), nil }
	ks, err := keystore.Open(home, keystore.WithPassphrase(pass), keystore.WithKDFStrength(encrypted.Legacy))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if _, err := ks.Generate(context.Background(), "seed", keystore.ECDSAP256); err != nil {
		t.Fatal(err)
	}
	return home
}

func baseEnv(dir, home string) []string {
	return []string{"SIGNET_HOME=" + home, "SIGNET_PASSPHRASE=" + testPassphrase, "HOME=" + dir,
		"DOCKER_CONFIG=" + filepath.Join(dir, "docker"), "PATH=" + os.Getenv("PATH")}
}

func TestRegistryNeedingAuthSaysToLogInAndUsesTheDockerConfig(t *testing.T) {
	t.Parallel()
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY_AUTH")
	user := testenv.Need(t, "SIGNET_TEST_REGISTRY_USER")
	password := testenv.Need(t, "SIGNET_TEST_REGISTRY_PASSWORD")
	dir := t.TempDir()
	home := fastHome(t, dir)
	env := baseEnv(dir, home)
	repo := fmt.Sprintf("%s/signet-auth/r%d", host, time.Now().UnixNano())

	code, out, errOut := signetRun(t, env, "init", repo, "--root-key", "seed")
	if code != 4 || !strings.Contains(errOut, "docker login "+host) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || out != "" {
		t.Fatalf("init without credentials: exit %d, stdout %q, stderr %q; want exit 4 and one line saying to docker login", code, out, errOut)
	}

	docker := filepath.Join(dir, "docker")
	if err := os.MkdirAll(docker, 0o700); err != nil {
		t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, auth)
	if err := os.WriteFile(filepath.Join(docker, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", repo, "--root-key", "seed"},
		{"push", "oci:" + randomLayout(t), repo + ":v1"},
		{"verify", repo + ":v1"},
	} {
		code, out, errOut := signetRun(t, env, args...)
		if code != 0 {
			t.Fatalf("%s with credentials in DOCKER_CONFIG: exit %d: %s%s", args[0], code, out, errOut)
		}
		if strings.Contains(out+errOut, password) || strings.Contains(out+errOut, auth) {
			t.Fatalf("%s shows the registry password", args[0])
		}
	}
}

// TestNoSecretInAnyOutputOfAFullRun runs a whole flow with -v and -o json
// and searches stdout and stderr for the passphrase, the PIN and the
// bytes of every private key in the keystore, in every encoding a leak
// would likely take.
func TestNoSecretInAnyOutputOfAFullRun(t *testing.T) {
	t.Parallel()
	host := testenv.Need(t, "SIGNET_TEST_REGISTRY")
	const pin = "pin-7Q3xW9-never-print"
	dir := t.TempDir()
	home := fastHome(t, dir)
	env := append(baseEnv(dir, home), "SIGNET_PIN="+pin, "SIGNET_EXPORT_PASSPHRASE=export-pass-Zk28-never-print")
	repo := fmt.Sprintf("%s/signet-secrets/r%d", host, time.Now().UnixNano())
	var all strings.Builder
	for _, args := range [][]string{
		{"key", "generate", "root"},
		{"key", "list"},
		{"init", repo, "--root-key", "root"},
		{"push", "oci:" + randomLayout(t), repo + ":v1"},
		{"push", "oci:" + randomLayout(t), repo + ":v2"},
		{"sign", repo + ":v2"},
		{"verify", repo + ":v1"},
		{"inspect", repo},
		{"key", "export", "root"},
		{"key", "export", "root", "--private", "--online", repo, "--force"},
		{"refresh", repo},
		{"status", repo},
	} {
		for _, global := range [][]string{{"-v"}, {"-v", "-o", "json"}} {
			if args[0] == "key" && args[1] == "generate" && len(global) > 1 {
				continue // once is enough
			}
			if args[0] == "init" && len(global) > 1 {
				continue
			}
			code, out, errOut := signetRun(t, env, append(global, args...)...)
			if code != 0 {
				t.Fatalf("signet %s: exit %d: %s%s", strings.Join(append(global, args...), " "), code, out, errOut)
			}
			all.WriteString(out)
			all.WriteString(errOut)
		}
	}
	// Failures print too: a wrong passphrase, a bad reference.
	bad := []string{"SIGNET_HOME=" + home, "SIGNET_PASSPHRASE=wrong-" + testPassphrase, "SIGNET_PIN=" + pin, "HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	code, out, errOut := signetRun(t, bad, "-v", "sign", repo+":v1")
	if code != 3 {
		t.Fatalf("sign with a wrong passphrase: exit %d: %s%s", code, out, errOut)
	}
	all.WriteString(out + errOut)

	text := all.String()
	if !strings.Contains(text, "level=DEBUG") {
		t.Fatal("no debug log line: -v was not in effect")
	}
	for what, secret := range map[string]string{"passphrase": testPassphrase, "PIN": pin, "export passphrase": "export-pass-Zk28-never-print"} {
		if strings.Contains(text, secret) {
			t.Errorf("output contains the %s", what)
		}
	}
	for name, forms := range privateKeyForms(t, home) {
		for _, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("output contains private key material of %s", name)
			}
		}
	}
}

// privateKeyForms returns, for every key in the keystore, the encodings of
// its private key a leak would show: PEM body lines, base64 and hex of the
// PKCS#8 DER, hex and base64 of the private scalar or seed.
func privateKeyForms(t *testing.T, home string) map[string][]string {
	t.Helper()
	pass := func(context.Context, keystore.PassphraseRequest) ([]byte, error) { return []byte(testPassphrase), nil }
	ks, err := keystore.Open(home, keystore.WithPassphrase(pass))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	keys, err := ks.List()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, info := range keys {
		priv, err := ks.PrivateKey(context.Background(), info.Name)
		if err != nil {
			continue // a hardware key
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		var raw []byte
		switch k := priv.(type) {
		case *ecdsa.PrivateKey:
			raw, _ = k.Bytes()
		case ed25519.PrivateKey:
			raw = k.Seed()
		}
		forms := []string{base64.StdEncoding.EncodeToString(der), hex.EncodeToString(der),
			hex.EncodeToString(raw), base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw)}
		for _, line := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n") {
			if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
				forms = append(forms, line)
			}
		}
		out[info.Name] = forms
	}
	if len(out) < 4 {
		t.Fatalf("only %d software keys in the keystore: want root, seed and the repository's online keys", len(out))
	}
	return out
}
