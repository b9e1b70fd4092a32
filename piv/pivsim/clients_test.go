//go:build cgo || windows

package pivsim_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/signet-dev/signet/piv/pivsim"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
)

func TestTouchNeverMakesATouchAlwaysSignatureFailClearly(t *testing.T) {
	env := pivsimtest.Need(t)
	yk, _ := open(t, env, env.Serial)
	pub, err := yk.GenerateKey(piv.DefaultManagementKey, piv.SlotSignature, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyNever, TouchPolicy: piv.TouchPolicyAlways})
	if err != nil {
		t.Fatal(err)
	}
	setTouch(t, env, env.Serial, pivsim.TouchConfig{Mode: pivsim.TouchNever, Timeout: 200 * time.Millisecond})
	priv, err := yk.PrivateKey(piv.SlotSignature, pub, piv.KeyAuth{})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte("push"))
	_, err = priv.(crypto.Signer).Sign(rand.Reader, digest[:], crypto.SHA256)
	if err == nil || !strings.Contains(err.Error(), "6982") || !strings.Contains(err.Error(), "security status not satisfied") {
		t.Fatalf("sign without a touch: %v, want smart card error 6982", err)
	}
	if n := counters(t, env, env.Serial); n.TouchTimeouts != 1 || n.Touches != 0 || n.Signatures != 0 {
		t.Errorf("counters %+v, want one touch timeout and no signature", n)
	}
	setTouch(t, env, env.Serial, pivsim.TouchConfig{Mode: pivsim.TouchAuto})
	if _, err := priv.(crypto.Signer).Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
		t.Fatalf("sign with auto touch: %v", err)
	}
}

func TestTouchCachedNeedsOneTouchForSeveralSignatures(t *testing.T) {
	env := pivsimtest.Need(t)
	yk, _ := open(t, env, env.Serial)
	slot, _ := piv.RetiredKeyManagementSlot(0x82)
	pub, err := yk.GenerateKey(piv.DefaultManagementKey, slot, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyOnce, TouchPolicy: piv.TouchPolicyCached})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := yk.PrivateKey(slot, pub, piv.KeyAuth{PIN: piv.DefaultPIN})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		d := sha256.Sum256([]byte{byte(i)})
		if _, err := priv.(crypto.Signer).Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
			t.Fatal(err)
		}
	}
	if n := counters(t, env, env.Serial); n.Touches != 1 || n.Signatures != 4 || n.PINVerifications != 1 {
		t.Errorf("counters %+v, want 1 touch and 1 PIN for 4 signatures", n)
	}
}

func TestYkmanReadsAndProgramsTheCard(t *testing.T) {
	env := pivsimtest.Need(t)
	out := tool(t, "ykman", "--reader", env.Reader, "info")
	mustContain(t, "ykman info", out, fmt.Sprintf("Serial number: %d", env.Serial), "Firmware version: 5.4.3", "PIV")
	out = tool(t, "ykman", "--reader", env.Reader, "piv", "info")
	mustContain(t, "ykman piv info", out, "PIV version: 5.4.3", "PIN tries remaining: 3/3", "Management key algorithm: TDES")

	pem := filepath.Join(t.TempDir(), "pub.pem")
	tool(t, "ykman", "--reader", env.Reader, "piv", "keys", "generate", "-a", "ECCP384",
		"--pin-policy", "ONCE", "--touch-policy", "CACHED",
		"-m", "010203040506070801020304050607080102030405060708", "9d", pem)
	b, err := os.ReadFile(pem)
	if err != nil || !strings.Contains(string(b), "BEGIN PUBLIC KEY") {
		t.Fatalf("ykman wrote no public key: %v", err)
	}
	yk, _ := open(t, env, env.Serial)
	info, err := yk.KeyInfo(piv.SlotKeyManagement)
	if err != nil || info.Algorithm != piv.AlgorithmEC384 || info.PINPolicy != piv.PINPolicyOnce || info.TouchPolicy != piv.TouchPolicyCached {
		t.Errorf("key ykman generated: %+v, %v", info, err)
	}
}

// certifiedKey generates a key in 9a with a certificate, as tools expect.
func certifiedKey(t *testing.T, env *pivsimtest.Env) {
	t.Helper()
	yk, closeCard := open(t, env, env.Serial)
	defer closeCard()
	pub, err := yk.GenerateKey(piv.DefaultManagementKey, piv.SlotAuthentication, piv.Key{Algorithm: piv.AlgorithmEC256, PINPolicy: piv.PINPolicyNever, TouchPolicy: piv.TouchPolicyNever})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := yk.PrivateKey(piv.SlotAuthentication, pub, piv.KeyAuth{})
	if err != nil {
		t.Fatal(err)
	}
	if err := yk.SetCertificate(piv.DefaultManagementKey, piv.SlotAuthentication, selfSigned(t, priv.(crypto.Signer), "pivsim-9a")); err != nil {
		t.Fatal(err)
	}
}

func TestYubicoPIVToolReportsStatus(t *testing.T) {
	env := pivsimtest.Need(t)
	certifiedKey(t, env)
	out := tool(t, "yubico-piv-tool", "-r", env.Reader, "-a", "status")
	mustContain(t, "yubico-piv-tool -a status", out,
		"Version:\t5.4.3", fmt.Sprintf("Serial Number:\t%d", env.Serial),
		"Slot 9a:", "ECCP256", "CN=pivsim-9a", "PIN tries left:\t3")
}

func TestOpenSCListsTheCardsObjects(t *testing.T) {
	env := pivsimtest.Need(t)
	certifiedKey(t, env)
	const module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
	if _, err := os.Stat(module); err != nil {
		t.Fatalf("OpenSC's PKCS #11 module: %v", err)
	}
	out := tool(t, "pkcs11-tool", "--module", module, "--slot-index", "0", "-O")
	mustContain(t, "pkcs11-tool -O", out, "Certificate Object", "pivsim-9a", "Public Key Object; EC", "PIV AUTH")
}

// TestAPDUTimeThroughPcscd measures one APDU through piv-go, pcscd and
// vpcd (reported, not asserted: TCP_QUICKACK keeps it far below the 40 ms
// Nagle and delayed-ACK stall).
func TestAPDUTimeThroughPcscd(t *testing.T) {
	env := pivsimtest.Need(t)
	yk, _ := open(t, env, env.Serial)
	const n = 500
	start := time.Now()
	for range n {
		if _, err := yk.Serial(); err != nil { // one APDU each
			t.Fatal(err)
		}
	}
	per := time.Since(start) / n
	t.Logf("per-APDU round trip through pcscd and vpcd: %v (%d APDUs)", per, n)
}

// cardPresent asks pcscd, through OpenSC's tool in another process,
// whether the reader holds a card. (piv-go's Open leaks its exclusive
// handle when a transaction cannot begin, which would lock this test
// process out of a card that is being pulled out.)
func cardPresent(t *testing.T, reader string) bool {
	t.Helper()
	for _, line := range strings.Split(tool(t, "opensc-tool", "--list-readers"), "\n") {
		if strings.HasSuffix(strings.TrimSpace(line), reader) {
			return strings.Contains(line, " Yes ")
		}
	}
	t.Fatalf("reader %q not listed by opensc-tool", reader)
	return false
}

// waitPresent polls until the reader's card is there or gone (bounded).
func waitPresent(t *testing.T, reader string, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for cardPresent(t, reader) != want {
		if time.Now().After(deadline) {
			t.Fatalf("card in %q: present = %v 10 s after the change", reader, !want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRemovedCardDisappearsAndComesBack(t *testing.T) {
	env := pivsimtest.Need(t)
	waitPresent(t, env.Reader2, true)
	if err := env.Client.Remove(ctx(t), env.Serial2); err != nil {
		t.Fatal(err)
	}
	waitPresent(t, env.Reader2, false)
	if st, err := env.Client.Status(ctx(t), env.Serial2); err != nil || st.Inserted || st.Connected {
		t.Fatalf("status after remove: %+v, %v", st, err)
	}
	if err := env.Client.Insert(ctx(t), env.Serial2); err != nil {
		t.Fatal(err)
	}
	waitPresent(t, env.Reader2, true)
	open(t, env, env.Serial2) // checks the serial
	if !cardPresent(t, env.Reader) {
		t.Error("the other card went away too")
	}
}
