package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/app"
	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/piv/pivsim/pivsimtest"
)

func TestYubikeySetupFlagsDefaultToTouchAlwaysPINOnceAndRequiredAttestation(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	var got *yubikeySetupOptions
	cmd := newYubikeySetupCmd(f, func(o *yubikeySetupOptions) error { got = o; return nil })
	if err := execCmd(cmd); err != nil {
		t.Fatal(err)
	}
	if got.Touch != "always" || got.PINPolicy != "once" || !got.RequireAttestation || got.Slot != "" || got.Force || got.Serial != 0 {
		t.Fatalf("defaults %+v", got)
	}
	if err := execCmd(cmd, "--serial", "12345678", "--slot", "82", "--touch", "cached", "--pin-policy", "always", "--name", "t", "--require-attestation=false"); err != nil {
		t.Fatal(err)
	}
	if got.Serial != 12345678 || got.Slot != "82" || got.Touch != "cached" || got.PINPolicy != "always" || got.Name != "t" || got.RequireAttestation {
		t.Fatalf("parsed %+v", got)
	}
}

func TestYubikeySetupRefusesBadFlagCombinationsBeforeTouchingACard(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--force"}, {"--yes"}, {"--slot", "f9"}, {"--touch", "maybe"}, {"--pin-policy", "never"}, {"--name", "bad name!"},
	} {
		opts := &yubikeySetupOptions{Touch: "always", PINPolicy: "once"}
		f, _, _ := newTestFactory(nil)
		cmd := newYubikeySetupCmd(f, func(o *yubikeySetupOptions) error { opts = o; return nil })
		if err := execCmd(cmd, args...); err != nil {
			if errkind.Of(err) != errkind.Input {
				t.Errorf("%v: %v", args, err)
			}
			continue
		}
		if _, err := opts.config(); errkind.Of(err) != errkind.Input {
			t.Errorf("%v accepted: %v", args, err)
		}
	}
}

func TestYubikeySerialFlagRefusesNonNumbers(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	cmd := newYubikeyInfoCmd(f, func(*yubikeyInfoOptions) error { return nil })
	if err := execCmd(cmd, "--serial", "abc"); errkind.Of(err) != errkind.Input {
		t.Fatalf("err = %v", err)
	}
}

func TestYubikeyAttestNeedsSlot(t *testing.T) {
	t.Parallel()
	f, _, _ := newTestFactory(nil)
	cmd := newYubikeyAttestCmd(f, func(*yubikeyAttestOptions) error { return nil })
	if err := execCmd(cmd); errkind.Of(err) != errkind.Input || !strings.Contains(err.Error(), "--slot") {
		t.Fatalf("err = %v", err)
	}
}

// runYubikey runs signet in process like runWith, with the yubikey
// commands and the YubiKey support wired into the factory.
func runYubikey(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ios, out, errOut := testIO(nil)
	f := newFactory(ios, mapEnv(env), withTestAttestationCA(env[envTestAttestationCA]))
	hw, closeHW := newHardware(f)
	f.Hardware = hw
	root := newRootCmd(f)
	if c, _, err := root.Find([]string{"yubikey"}); err != nil || c == root {
		root.AddCommand(newYubikeyCmd(f))
	}
	root.SetArgs(args)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(context.Background())
	closeHW()
	f.close()
	code, line := exitCode(context.Background(), err)
	if line != "" {
		fmt.Fprintln(errOut, line)
	}
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

const (
	cliPIN = "753159"
	cliPUK = "95175385"
)

func cardEnv(t *testing.T) (*pivsimtest.Env, map[string]string) {
	env := pivsimtest.Need(t)
	return env, map[string]string{
		"SIGNET_HOME":                filepath.Join(t.TempDir(), "home"),
		"SIGNET_PASSPHRASE":          "Yubikey-Test-Pass-1",
		"SIGNET_PIN":                 cliPIN,
		"SIGNET_PUK":                 cliPUK,
		"SIGNET_TEST_ATTESTATION_CA": env.AttestationCA,
	}
}

func TestYubikeySetupRecordsAnAttestedKeyThatSignsWithOneTouch(t *testing.T) {
	t.Parallel()
	card, env := cardEnv(t)
	s := fmt.Sprint(card.Serial)
	r := runYubikey(t, env, "yubikey", "setup", "--serial", s, "--no-input", "-o", "json")
	if r.code != 0 {
		t.Fatalf("setup: %d %s", r.code, r.errOut)
	}
	var res app.YubikeySetupResult
	if err := json.Unmarshal([]byte(r.out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Name != "yubikey-"+s+"-9c" || res.Slot != "9c" || !res.Attested || !res.Initialized || res.TouchPolicy != "always" {
		t.Fatalf("setup result %+v", res)
	}
	if !strings.Contains(r.errOut, "SIGNET_TEST_ATTESTATION_CA is set") || strings.Contains(r.errOut+r.out, cliPIN) || strings.Contains(r.errOut+r.out, cliPUK) {
		t.Fatalf("stderr %q", r.errOut)
	}
	r = runYubikey(t, env, "yubikey", "info", "--serial", s)
	if r.code != 0 || !strings.Contains(r.out, "yubikey-"+s+"-9c") || !strings.Contains(r.out, "ECCP256") {
		t.Fatalf("info: %d %s %s", r.code, r.out, r.errOut)
	}

	// The key signs through the resolver: by reference and by key ID.
	ios, _, errOut := testIO(nil)
	f := newFactory(ios, mapEnv(env))
	hw, closeHW := newHardware(f)
	defer closeHW()
	f.Hardware = hw
	defer f.close()
	res2, err := f.Resolver()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k, err := res2.Resolve(ctx, "yubikey:"+s)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != res.KeyID || k.Description != "YubiKey "+s+" slot 9c" || k.Name != res.Name {
		t.Fatalf("key %+v", k)
	}
	if byID, err := res2.ByKeyID(ctx, res.KeyID); err != nil || byID.ID != res.KeyID {
		t.Fatalf("ByKeyID: %+v %v", byID, err)
	}
	if err := card.Client.ResetCounters(ctx, card.Serial); err != nil {
		t.Fatal(err)
	}
	sig, err := k.Signer.SignMessage(strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := k.Signer.PublicKey()
	d := sha256.Sum256([]byte("payload"))
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatal("signature does not verify")
	}
	n, _ := card.Client.Counters(ctx, card.Serial)
	if n.Touches != 1 || n.PINVerifications != 1 {
		t.Fatalf("counters %+v", n)
	}
	if !strings.Contains(errOut.String(), "signet: Touch your YubiKey "+s+" to sign") {
		t.Fatalf("no touch notice: %q", errOut.String())
	}
}

func TestYubikeySetupWithoutTheTestCARefusesTheAttestation(t *testing.T) {
	t.Parallel()
	card, env := cardEnv(t)
	delete(env, "SIGNET_TEST_ATTESTATION_CA")
	r := runYubikey(t, env, "yubikey", "setup", "--serial", fmt.Sprint(card.Serial), "--no-input")
	if r.code != 3 || !strings.Contains(r.errOut, "genuine YubiKey") {
		t.Fatalf("setup: %d %s", r.code, r.errOut)
	}
	r = runYubikey(t, env, "key", "list")
	if strings.Contains(r.out, "yubikey-") {
		t.Fatalf("refused key recorded: %s", r.out)
	}
}

func TestYubikeyWrongPINBlockedPINAndUnblock(t *testing.T) {
	t.Parallel()
	card, env := cardEnv(t)
	s := fmt.Sprint(card.Serial)
	if r := runYubikey(t, env, "yubikey", "setup", "--serial", s, "--no-input"); r.code != 0 {
		t.Fatalf("setup: %s", r.errOut)
	}
	wrong := map[string]string{}
	for k, v := range env {
		wrong[k] = v
	}
	wrong["SIGNET_PIN"], wrong["SIGNET_NEW_PIN"] = "000000", "111111"
	r := runYubikey(t, wrong, "yubikey", "set-pin", "--serial", s, "--no-input")
	if r.code != 3 || !strings.Contains(r.errOut, "2 tries left") {
		t.Fatalf("wrong PIN: %d %s", r.code, r.errOut)
	}
	for range 2 {
		runYubikey(t, wrong, "yubikey", "set-pin", "--serial", s, "--no-input")
	}
	r = runYubikey(t, env, "yubikey", "attest", "--serial", s, "--slot", "9c")
	if r.code != 0 || !strings.Contains(r.out, "BEGIN CERTIFICATE") {
		t.Fatalf("attest: %d %s", r.code, r.errOut)
	}
	r = runYubikey(t, env, "yubikey", "info", "--serial", s)
	if !strings.Contains(r.out, "blocked") {
		t.Fatalf("info of a blocked card: %s", r.out)
	}
	env["SIGNET_NEW_PIN"] = "112233"
	r = runYubikey(t, env, "yubikey", "unblock", "--serial", s, "--no-input")
	if r.code != 0 {
		t.Fatalf("unblock: %d %s", r.code, r.errOut)
	}
	env["SIGNET_PIN"], env["SIGNET_NEW_PIN"] = "112233", cliPIN
	if r := runYubikey(t, env, "yubikey", "set-pin", "--serial", s, "--no-input"); r.code != 0 {
		t.Fatalf("set-pin with the new PIN: %s", r.errOut)
	}
}

func TestYubikeyCommandsNeedASerialWithTwoCardsAndResetNeedsYes(t *testing.T) {
	t.Parallel()
	card, env := cardEnv(t)
	r := runYubikey(t, env, "yubikey", "info")
	if r.code != 2 || !strings.Contains(r.errOut, fmt.Sprint(card.Serial)) || !strings.Contains(r.errOut, fmt.Sprint(card.Serial2)) {
		t.Fatalf("info with two cards: %d %s", r.code, r.errOut)
	}
	r = runYubikey(t, env, "yubikey", "list", "-o", "json")
	if r.code != 0 || !strings.Contains(r.out, fmt.Sprint(card.Serial2)) {
		t.Fatalf("list: %d %s %s", r.code, r.out, r.errOut)
	}
	s2 := fmt.Sprint(card.Serial2)
	if r := runYubikey(t, env, "yubikey", "setup", "--serial", s2, "--no-input"); r.code != 0 {
		t.Fatalf("setup: %s", r.errOut)
	}
	if r := runYubikey(t, env, "yubikey", "reset", "--serial", s2); r.code != 2 || !strings.Contains(r.errOut, "--yes") {
		t.Fatalf("reset without --yes: %d %s", r.code, r.errOut)
	}
	r = runYubikey(t, env, "yubikey", "reset", "--serial", s2, "--yes")
	if r.code != 0 || !strings.Contains(r.errOut, "still records key yubikey-"+s2+"-9c") {
		t.Fatalf("reset: %d %s", r.code, r.errOut)
	}
	if r := runYubikey(t, env, "yubikey", "info", "--serial", s2); !strings.Contains(r.out, "none in use") {
		t.Fatalf("info after reset: %s", r.out)
	}
}

func TestReleaseBinaryIgnoresTheTestAttestationCA(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing-ca.pem")
	env := map[string]string{envTestAttestationCA: missing}

	// What main builds: the variable is set but never read.
	f, _, errOut := newTestFactory(env)
	if _, err := f.attestationRoots(); err != nil || errOut.Len() != 0 {
		t.Fatalf("release factory read %s: %v, stderr %q", envTestAttestationCA, err, errOut.String())
	}

	// What the test binary builds: the file is read (and here missing).
	ios, _, _ := testIO(nil)
	f = newFactory(ios, mapEnv(env), withTestAttestationCA(missing))
	if _, err := f.attestationRoots(); errkind.Of(err) != errkind.Input || !strings.Contains(fmt.Sprint(err), envTestAttestationCA) {
		t.Fatalf("test factory: %v, want an input error naming %s", err, envTestAttestationCA)
	}
}
