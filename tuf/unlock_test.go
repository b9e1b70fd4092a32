package tuf_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/signet-dev/signet/tuf"
)

// unlockingKeyring is a testKeyring that records Unlock among its Signer
// calls, and fails Unlock with err when err is set.
type unlockingKeyring struct {
	*testKeyring
	unlocked []tuf.RoleKeys
	err      error
}

func (k *unlockingKeyring) Unlock(ctx context.Context, need []tuf.RoleKeys) error {
	k.used = append(k.used, "unlock")
	k.unlocked = append(k.unlocked, need...)
	return k.err
}

func TestPublishUnlocksEveryKeyBeforeTheFirstSignature(t *testing.T) {
	f := newRepo(t)
	k := &unlockingKeyring{testKeyring: f.keys}
	k.used = nil
	_, err := tuf.Update(context.Background(), f.store, k, func(r *tuf.Repo) error {
		return r.AddTargets(context.Background(), "targets", []tuf.Target{target("v1", 1)})
	}, tuf.TrustStoredRoot())
	if err != nil {
		t.Fatal(err)
	}
	if len(k.used) != 4 || k.used[0] != "unlock" {
		t.Fatalf("calls = %v, want unlock, then targets, snapshot, timestamp", k.used)
	}
	var roles []string
	for _, rk := range k.unlocked {
		roles = append(roles, rk.Role)
		for _, id := range rk.KeyIDs {
			if !slices.Contains(k.used, rk.Role+":"+id) {
				t.Errorf("unlocked %s:%s, which did not sign", rk.Role, id)
			}
		}
	}
	if want := []string{"targets", "snapshot", "timestamp"}; !slices.Equal(roles, want) {
		t.Fatalf("unlocked roles %v, want %v", roles, want)
	}
}

func TestUnlockFailureSignsNothing(t *testing.T) {
	f := newRepo(t)
	before := len(f.store.Files())
	wrong := errors.New("wrong passphrase")
	k := &unlockingKeyring{testKeyring: f.keys, err: wrong}
	k.used = nil
	_, err := tuf.Update(context.Background(), f.store, k, func(r *tuf.Repo) error {
		return r.AddTargets(context.Background(), "targets", []tuf.Target{target("v1", 1)})
	}, tuf.TrustStoredRoot())
	if !errors.Is(err, wrong) {
		t.Fatalf("err = %v, want the unlock error", err)
	}
	if !slices.Equal(k.used, []string{"unlock"}) {
		t.Fatalf("calls = %v, want unlock alone", k.used)
	}
	if got := len(f.store.Files()); got != before {
		t.Fatalf("%d files after a failed unlock, want %d", got, before)
	}
}
