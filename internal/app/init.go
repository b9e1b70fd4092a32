package app

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/signer"
	"github.com/signet-dev/signet/tuf"
)

// InitRequest is `signet init`: the repository and a key reference per
// role. Empty targets, snapshot or timestamp references make new software
// keys in the keystore, named "<repository>/<role>".
type InitRequest struct {
	Repository    string
	RootKeys      []string
	RootThreshold int
	TargetsKey    string
	SnapshotKey   string
	TimestampKey  string
	Expiries      tuf.Expiries
	// RequireAttestation accepts only YubiKey keys whose attestation chains
	// to the attestation roots, for root and targets.
	RequireAttestation bool
	// Bins, when not 0, puts tags into that many hash bins from the start.
	Bins int
}

// RoleKey names one key of a role in a result.
type RoleKey struct {
	Role        string `json:"role"`
	KeyID       string `json:"keyid"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Generated   bool   `json:"generated,omitempty"`
}

// InitResult describes the new repository.
type InitResult struct {
	Repository  string    `json:"repository"`
	RootVersion int64     `json:"rootVersion"`
	Keys        []RoleKey `json:"keys"`
}

// Init creates the trust data of a repository and pins its root in the
// signet home, so this machine never trusts on first use for it.
func Init(ctx context.Context, d *Deps, req InitRequest) (*InitResult, error) {
	repo, err := registry.ParseRepository(req.Repository)
	if err != nil {
		return nil, err
	}
	if len(req.RootKeys) == 0 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("init needs at least one --root-key"))
	}
	ks, err := d.Keystore()
	if err != nil {
		return nil, err
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	// Refuse before making keys when the repository already has trust data.
	if view, err := store.Load(ctx); err != nil {
		return nil, err
	} else if len(view.Files()) > 0 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s already has trust data: use signet rotate to change its keys", repo))
	}

	out := &InitResult{Repository: repo.Name()}
	var signers []*signer.Key
	cfg := tuf.InitConfig{RootThreshold: req.RootThreshold, Expiries: req.Expiries, Bins: req.Bins}
	for _, ref := range req.RootKeys {
		// A root key may be someone else's public key (a backup card kept
		// elsewhere): it is listed in the root, and signs later rotations.
		k, err := res.Resolve(ctx, ref)
		if errors.Is(err, keystore.ErrNoPrivateKey) {
			k, err = res.ResolvePublic(ctx, ref)
		}
		if err != nil {
			return nil, fmt.Errorf("root key %s: %w", ref, err)
		}
		if req.RequireAttestation {
			if err := d.checkAttestation(ks, metadata.ROOT, k); err != nil {
				return nil, err
			}
		}
		if k.Signer != nil {
			signers = append(signers, k)
		}
		if !k.Hardware {
			d.notice("warning: root key %s is a software key; keep it offline, or put root on a YubiKey (signet yubikey setup)", nameOr(k))
		}
		cfg.RootKeys = append(cfg.RootKeys, k.Public)
		out.Keys = append(out.Keys, RoleKey{Role: metadata.ROOT, KeyID: k.ID, Name: k.Name, Description: k.Description})
	}
	for _, rk := range []struct {
		role string
		ref  string
		into *[]*metadata.Key
	}{
		{metadata.TARGETS, req.TargetsKey, &cfg.TargetsKeys},
		{metadata.SNAPSHOT, req.SnapshotKey, &cfg.SnapshotKeys},
		{metadata.TIMESTAMP, req.TimestampKey, &cfg.TimestampKeys},
	} {
		ref := rk.ref
		if rk.role == metadata.TARGETS {
			if ref, err = targetsSlot(ctx, ks, res, ref, cfg.RootKeys); err != nil {
				return nil, err
			}
		}
		k, generated, err := roleKey(ctx, ks, res, repo.Name(), rk.role, ref)
		if err != nil {
			return nil, err
		}
		if rk.role == metadata.TARGETS && isRootKey(cfg.RootKeys, k.ID) {
			d.notice("warning: targets key %s is also a root key: if it is lost or leaked, root cannot replace it by rotation alone; use a key of its own (signet yubikey setup puts one in slot 82)", nameOr(k))
		}
		if req.RequireAttestation && rk.role == metadata.TARGETS {
			if err := d.checkAttestation(ks, rk.role, k); err != nil {
				return nil, err
			}
		}
		signers = append(signers, k)
		*rk.into = append(*rk.into, k.Public)
		out.Keys = append(out.Keys, RoleKey{Role: rk.role, KeyID: k.ID, Name: k.Name, Description: k.Description, Generated: generated})
	}

	r, err := tuf.Init(ctx, store, cfg, d.keyring(repo, res, signers...), d.repoOptions()...)
	if err != nil {
		return nil, err
	}
	rootJSON, err := r.Root().ToBytes(true)
	if err != nil {
		return nil, err
	}
	if err := ks.PinRoot(repo.RegistryStr(), repo.RepositoryStr(), rootJSON); err != nil {
		return nil, fmt.Errorf("pinning the new root: %w", err)
	}
	out.RootVersion = r.Root().Signed.Version
	return out, nil
}

// roleKey resolves ref for a role, or when ref is empty takes the key
// "<repository>/<role>" from the keystore, making it if it is not there.
func roleKey(ctx context.Context, ks *keystore.Store, res *signer.Resolver, repo, role, ref string) (*signer.Key, bool, error) {
	if ref != "" {
		k, err := res.Resolve(ctx, ref)
		if err != nil {
			return nil, false, fmt.Errorf("%s key %s: %w", role, ref, err)
		}
		return k, false, nil
	}
	keyName := RoleKeyName(repo, role)
	generated := false
	if _, err := ks.Get(keyName); err != nil {
		if _, err := ks.Generate(ctx, keyName, keystore.ECDSAP256); err != nil {
			return nil, false, fmt.Errorf("making the %s key: %w", role, err)
		}
		generated = true
	}
	k, err := res.Resolve(ctx, keyName)
	if err != nil {
		return nil, false, fmt.Errorf("%s key %s: %w", role, keyName, err)
	}
	return k, generated, nil
}

func nameOr(k *signer.Key) string {
	if k.Name != "" {
		return k.Name
	}
	return keyid.Short(k.ID)
}

// targetsSlot keeps root and targets apart when --targets-key names a
// YubiKey without a slot (yubikey, yubikey:SERIAL) that resolves to a root
// key (9c, the default when the card has several records): it returns the
// reference of the card's other recorded slot instead (the first one, in
// slot order, that root does not use). A card with no other recorded key is
// an errkind.Input error saying how to set one up. Any other reference is
// returned as it is: naming the root key itself is the user's choice.
func targetsSlot(ctx context.Context, ks *keystore.Store, res *signer.Resolver, ref string, rootKeys []*metadata.Key) (string, error) {
	parsed, err := signer.ParseRef(ref)
	if err != nil || parsed.Kind != signer.RefYubiKey || parsed.Slot != "" {
		return ref, nil
	}
	k, err := res.ResolvePublic(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("targets key %s: %w", ref, err)
	}
	card, ok := k.Signer.(piv.Signer)
	if !ok || !isRootKey(rootKeys, k.ID) {
		return ref, nil
	}
	all, err := ks.List()
	if err != nil {
		return "", err
	}
	var slots []string
	for _, info := range all {
		if info.Kind == keystore.Hardware && info.Serial == card.Serial() && !isRootKey(rootKeys, info.KeyID) {
			slots = append(slots, info.Slot)
		}
	}
	if len(slots) == 0 {
		return "", errkind.Mark(errkind.Input, fmt.Errorf("--targets-key %s is slot %s of YubiKey %d, the root key: set up a targets key on the card (signet yubikey setup --name NAME) and name it, or name a key of its own", ref, card.Slot(), card.Serial()))
	}
	slices.Sort(slots)
	return fmt.Sprintf("yubikey:%d/%s", card.Serial(), slots[0]), nil
}

// isRootKey reports whether the key with this ID is one of rootKeys.
func isRootKey(rootKeys []*metadata.Key, id string) bool {
	for _, k := range rootKeys {
		if kid, err := k.ID(); err == nil && kid == id {
			return true
		}
	}
	return false
}
