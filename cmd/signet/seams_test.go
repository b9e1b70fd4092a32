package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kdfN returns the scrypt N recorded in the keystore's master key file.
func kdfN(t *testing.T, home string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, "keys", "master.enc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{`"N":32768`, `"N":65536`, `"N":131072`} {
		if strings.Contains(string(data), n) {
			return n
		}
	}
	t.Fatalf("no known scrypt N in %s", data)
	return ""
}

// The test binary's signet writes key files at a lower scrypt cost; a
// signet without the seams reads them, and writes its own at the full cost.
func TestKeyFilesWrittenUnderTheTestSeamOpenInASignetWithoutIt(t *testing.T) {
	t.Parallel()
	home := filepath.Join(t.TempDir(), "home")
	vars := map[string]string{"SIGNET_HOME": home, "SIGNET_PASSPHRASE": testPassphrase}
	env := mapEnv(vars)
	ios, _, errOut := testIO(nil)
	if code := runAs(context.Background(), []string{"key", "generate", "k"}, nil, env, ios, withTestSeams(scriptSeams())); code != 0 {
		t.Fatalf("key generate under the seams: exit %d: %s", code, errOut)
	}
	if n := kdfN(t, home); n != `"N":32768` {
		t.Fatalf("the test seam wrote %s, want N=2^15", n)
	}
	// key passwd decrypts the master key (at the file's cost) and
	// encrypts it again at the product's.
	vars["SIGNET_NEW_PASSPHRASE"] = "An0ther-Passphrase"
	ios, _, errOut = testIO(nil)
	if code := runWith(context.Background(), []string{"key", "passwd", "--no-input"}, env, ios); code != 0 {
		t.Fatalf("key passwd without the seams: exit %d: %s", code, errOut)
	}
	if n := kdfN(t, home); n != `"N":65536` {
		t.Fatalf("signet without the seams wrote %s, want the default N=2^16", n)
	}
}
