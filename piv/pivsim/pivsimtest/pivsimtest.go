// Package pivsimtest gives tests the virtual YubiKeys that
// scripts/lib/pcsc.sh starts (pcscd, vpcd and cmd/pivsim with two cards).
// A test calls Need, which serializes card use across test processes and
// starts it from factory-fresh cards:
//
//	env := pivsimtest.Need(t)
//	// ... run signet against env.Serial ...
//	n, _ := env.Client.Counters(ctx, env.Serial)
//	if n.Touches != 1 { ... }
package pivsimtest

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testenv"
	"github.com/signet-dev/signet/piv/pivsim"
)

// Env is the environment scripts/lib/pcsc.sh exports.
type Env struct {
	Client          *pivsim.Client // control server of pivsim
	Serial, Serial2 uint32         // the two cards
	Reader, Reader2 string         // their PC/SC reader names
	AttestationCA   string         // PEM file with both cards' attestation CAs
	Bin             string         // the pivsim binary
}

// lockWait bounds how long a test waits for other processes' card use.
const lockWait = 10 * time.Minute

// Need returns the card environment. It skips the test when the services
// are not running (and fails under `make test`), takes the cross-process
// card lock until the test ends, and factory-resets both cards, which
// also zeroes their counters and restores automatic touch.
func Need(t testing.TB) *Env {
	t.Helper()
	testenv.Need(t, "SIGNET_TEST_PCSC")
	e := &Env{
		Client:        pivsim.NewClient(testenv.Need(t, "SIGNET_TEST_PIVSIM_CTL")),
		Serial:        serial(t, "SIGNET_TEST_PIVSIM_SERIAL"),
		Serial2:       serial(t, "SIGNET_TEST_PIVSIM_SERIAL2"),
		Reader:        testenv.Need(t, "SIGNET_TEST_PIVSIM_READER"),
		Reader2:       testenv.Need(t, "SIGNET_TEST_PIVSIM_READER2"),
		AttestationCA: testenv.Need(t, "SIGNET_TEST_ATTESTATION_CA"),
		Bin:           os.Getenv("SIGNET_TEST_PIVSIM_BIN"),
	}
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	unlock, err := pivsim.LockCards(ctx, testenv.Need(t, pivsim.LockEnv))
	if err != nil {
		t.Fatalf("taking the card lock: %v", err)
	}
	t.Cleanup(unlock)
	for _, s := range []uint32{e.Serial, e.Serial2} {
		if err := e.Client.Insert(ctx, s); err != nil {
			t.Fatalf("inserting card %d: %v", s, err)
		}
		if err := e.Client.FactoryReset(ctx, s); err != nil {
			t.Fatalf("factory-resetting card %d: %v", s, err)
		}
	}
	return e
}

func serial(t testing.TB, name string) uint32 {
	t.Helper()
	v := testenv.Need(t, name)
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		t.Fatalf("%s=%q is not a serial: %v", name, v, err)
	}
	return uint32(n)
}
