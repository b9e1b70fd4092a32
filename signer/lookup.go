package signer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
)

// fromStore resolves a keystore name or key-ID prefix, then a key of that
// name in the SIGNET_KEY bundle.
func (r *Resolver) fromStore(ctx context.Context, name string, private bool) (*Key, error) {
	if r.ks != nil {
		info, err := r.ks.Get(name)
		if errors.Is(err, keystore.ErrNotFound) && looksLikeKeyID(name) {
			info, err = r.ks.FindByID(name)
		}
		switch {
		case err == nil:
			return r.fromInfo(ctx, info, private)
		case !errors.Is(err, keystore.ErrNotFound):
			return nil, err
		}
	}
	b, err := r.envBundle(ctx)
	if err != nil {
		return nil, err
	}
	if b != nil {
		if bk, ok := b.ByName(name); ok {
			return bundleKey(bk, EnvKey, private)
		}
		if looksLikeKeyID(name) {
			for _, bk := range b.Keys {
				if strings.HasPrefix(bk.KeyID, strings.ToLower(name)) {
					return bundleKey(bk, EnvKey, private)
				}
			}
		}
	}
	return nil, r.notFoundName(ctx, name)
}

func looksLikeKeyID(s string) bool {
	return len(s) >= 4 && len(s) <= 64 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// fromInfo turns a keystore record into a Key.
func (r *Resolver) fromInfo(ctx context.Context, info keystore.KeyInfo, private bool) (*Key, error) {
	switch info.Kind {
	case keystore.Hardware:
		desc := fmt.Sprintf("YubiKey %d slot %s", info.Serial, info.Slot)
		if !private {
			k, err := FromPublic(info.Name, desc, info.Public)
			if k != nil {
				k.Hardware = true
			}
			return k, err
		}
		k, err := r.hardwareKey(ctx, Ref{Kind: RefYubiKey, Serial: info.Serial, Slot: info.Slot}, fmt.Sprintf("key %q", info.Name))
		if err != nil {
			return nil, err
		}
		if k.ID != info.KeyID {
			return nil, keyErr(fmt.Errorf("%s does not hold key %s (key ID %s): was it reset?", desc, info.Name, keyid.Short(info.KeyID)))
		}
		if k.Name == "" {
			k.Name = info.Name
		}
		return k, nil
	case keystore.Software:
		desc := "software key " + info.Name
		if !private {
			return FromPublic(info.Name, desc, info.Public)
		}
		priv, err := r.ks.PrivateKey(ctx, info.Name)
		if err != nil {
			return nil, err
		}
		return softwareKey(info.Name, desc, priv)
	}
	return FromPublic(info.Name, "public key "+info.Name, info.Public)
}

func (r *Resolver) hardwareKey(ctx context.Context, ref Ref, purpose string) (*Key, error) {
	if r.opts.hardware == nil {
		return nil, keyErr(fmt.Errorf("%s: YubiKey support not available", ref))
	}
	return r.opts.hardware.Signer(ctx, ref, purpose)
}

// ByKeyID returns a signing key whose TUF key ID is exactly keyID: from the
// SIGNET_KEY bundle first, then from bundles this Resolver opened for env:
// and file: references, then from the keystore (a hardware record goes to
// the YubiKey). This is how signet finds the snapshot, timestamp or
// delegation key a signature needs. When none is here the error is
// errkind.Key wrapping ErrKeyNotFound.
func (r *Resolver) ByKeyID(ctx context.Context, keyID string) (*Key, error) {
	b, err := r.envBundle(ctx)
	if err != nil {
		return nil, err
	}
	if b != nil {
		if bk, ok := b.ByKeyID(keyID); ok {
			return bundleKey(bk, EnvKey, true)
		}
	}
	r.mu.Lock()
	var extra []string
	for _, src := range r.order {
		if src != EnvKey {
			extra = append(extra, src)
		}
	}
	bundles := make([]*keystore.Bundle, len(extra))
	for i, src := range extra {
		bundles[i] = r.bundles[src]
	}
	r.mu.Unlock()
	for i, b := range bundles {
		if bk, ok := b.ByKeyID(keyID); ok {
			return bundleKey(bk, extra[i], true)
		}
	}
	if r.ks != nil {
		all, err := r.ks.List()
		if err != nil {
			return nil, err
		}
		for _, info := range all {
			if info.KeyID != keyID {
				continue
			}
			if info.Kind == keystore.PublicOnly {
				return nil, keyErr(fmt.Errorf("key %s: only its public key (%s) is in the keystore: %w", keyid.Short(keyID), info.Name, ErrKeyNotFound))
			}
			return r.fromInfo(ctx, info, true)
		}
	}
	return nil, keyErr(fmt.Errorf("key %s is not in the keystore or %s: %w", keyid.Short(keyID), EnvKey, ErrKeyNotFound))
}

// Unlock opens what the software keys among keyIDs need before they sign,
// asking for their passphrases now: the SIGNET_KEY bundle (whatever the
// key IDs), and the keystore's master key once when any of them is a
// software record of the keystore that no open bundle holds (one
// passphrase opens them all). Keys
// on a YubiKey, and keys not at hand, are left alone. Commands call it
// with every key that may sign before the first signature, so that every
// passphrase is asked before any PIN or touch (tuf.Unlocker). Only a
// wrong passphrase stops it: a passphrase that cannot be had here (no
// terminal, no variable) is left for the signature that needs the key,
// since the role's threshold may be met without it.
func (r *Resolver) Unlock(ctx context.Context, keyIDs ...string) error {
	env, err := r.envBundle(ctx)
	if err != nil {
		return unlockError(err)
	}
	// A key a bundle holds signs from the bundle (ByKeyID looks there
	// first): it needs nothing of the keystore.
	r.mu.Lock()
	bundles := []*keystore.Bundle{env}
	for _, src := range r.order {
		if src != EnvKey {
			bundles = append(bundles, r.bundles[src])
		}
	}
	r.mu.Unlock()
	keyIDs = slices.DeleteFunc(slices.Clone(keyIDs), func(id string) bool {
		return slices.ContainsFunc(bundles, func(b *keystore.Bundle) bool { return b != nil && hasKey(b, id) })
	})
	if r.ks == nil || len(keyIDs) == 0 {
		return nil
	}
	all, err := r.ks.List()
	if err != nil {
		return unlockError(err)
	}
	for _, info := range all {
		if info.Kind == keystore.Software && slices.Contains(keyIDs, info.KeyID) {
			_, err := r.ks.PrivateKey(ctx, info.Name)
			return unlockError(err)
		}
	}
	return nil
}

// unlockError keeps the errors of Unlock that must stop a command before
// anything is signed: a wrong passphrase.
func unlockError(err error) error {
	if errors.Is(err, keystore.ErrWrongPassphrase) {
		return err
	}
	return nil
}

func hasKey(b *keystore.Bundle, keyID string) bool {
	_, ok := b.ByKeyID(keyID)
	return ok
}
