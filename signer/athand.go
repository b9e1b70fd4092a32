package signer

import (
	"context"
	"fmt"
	"strings"

	"github.com/signet-dev/signet/keystore"
)

// Held is a key whose private half is at hand for this command: a software
// or YubiKey record of the keystore, or a key of the SIGNET_KEY bundle.
type Held struct {
	Name   string
	KeyID  string
	Source string // "keystore" or EnvKey
}

// String is the key as messages name it: "ci (SIGNET_KEY)".
func (h Held) String() string { return h.Name + " (" + h.Source + ")" }

// AtHand lists the keys this command could sign with without a reference:
// the keystore's software and YubiKey records (public-only records are
// left out), then the keys of the SIGNET_KEY bundle, which it opens (so the
// bundle's passphrase is needed when SIGNET_KEY is set). A key of the
// bundle that the keystore also holds is listed once.
func (r *Resolver) AtHand(ctx context.Context) ([]Held, error) {
	var out []Held
	seen := map[string]bool{}
	if r.ks != nil {
		all, err := r.ks.List()
		if err != nil {
			return nil, err
		}
		for _, info := range all {
			if info.Kind == keystore.PublicOnly {
				continue
			}
			out = append(out, Held{Name: info.Name, KeyID: info.KeyID, Source: "keystore"})
			seen[info.KeyID] = true
		}
	}
	b, err := r.envBundle(ctx)
	if err != nil {
		return nil, err
	}
	if b != nil {
		for _, bk := range b.Keys {
			if !seen[bk.KeyID] {
				out = append(out, Held{Name: bk.Name, KeyID: bk.KeyID, Source: EnvKey})
				seen[bk.KeyID] = true
			}
		}
	}
	return out, nil
}

// HeldNames joins keys for a message: "ci (SIGNET_KEY), root (keystore)",
// or "none" for no key.
func HeldNames(keys []Held) string {
	if len(keys) == 0 {
		return "none"
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.String()
	}
	return strings.Join(names, ", ")
}

// notFoundName is the error for a key name that neither the keystore nor
// SIGNET_KEY holds: it lists the names that are there, so a typo shows. It
// wraps keystore.ErrNotFound.
func (r *Resolver) notFoundName(ctx context.Context, name string) error {
	where := "in the keystore or " + EnvKey
	if r.ks == nil {
		where = "in " + EnvKey + " (no keystore)"
	}
	available := "none"
	if held, err := r.AtHand(ctx); err == nil {
		available = HeldNames(held)
	}
	return keyErr(fmt.Errorf("no key named %s %s (keys available: %s): %w", name, where, available, keystore.ErrNotFound))
}
