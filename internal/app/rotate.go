package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/signer"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// RotateRequest is `signet rotate R ROLE`.
type RotateRequest struct {
	Repository string
	Role       string   // root, targets, snapshot, timestamp or a delegation
	AddKeys    []string // key references; public key files (file:NAME.pub) too
	RemoveKeys []string // key IDs (or unambiguous prefixes) of the role, or key names
	Threshold  int      // 0 keeps the role's threshold
	// Stage, when set, writes a staged ceremony to this file instead of
	// publishing, signed by whichever required keys are at hand.
	Stage string
}

// RotateResult describes the role after the rotation, published or staged.
type RotateResult struct {
	Repository  string    `json:"repository"`
	Role        string    `json:"role"`
	RootVersion int64     `json:"rootVersion"` // published, or proposed when staged
	Threshold   int       `json:"threshold"`
	Keys        []KeyInfo `json:"keys"`
	// Staged is the ceremony file written with --stage, and Ceremony its
	// state (who signed, who must still sign).
	Staged   string          `json:"staged,omitempty"`
	Ceremony *CeremonyStatus `json:"ceremony,omitempty"`
}

// Rotate changes a role's keys or threshold (docs/design.md §5). Without Stage
// it publishes at once and needs a threshold of the current and of the new
// root keys at hand for any top-level role (a root change), the targets key
// to re-sign a delegation's targets, and the new keys of the rotated role to
// re-sign it. When keys are missing it fails with errkind.Key, naming them
// and suggesting Stage; with Stage it writes the ceremony file instead.
func Rotate(ctx context.Context, d *Deps, req RotateRequest) (*RotateResult, error) {
	repo, err := registry.ParseRepository(req.Repository)
	if err != nil {
		return nil, err
	}
	if req.Role == "" {
		return nil, errkind.Mark(errkind.Input, errors.New("name the role to rotate: root, targets, snapshot, timestamp or a delegation"))
	}
	if req.Stage != "" {
		if _, err := os.Stat(req.Stage); err == nil {
			return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s already exists: stage into a new file", req.Stage))
		}
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	added, signers, err := resolveAddKeys(ctx, res, req.AddKeys)
	if err != nil {
		return nil, err
	}
	kr := d.keyring(repo, res, signers...)
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	online := strings.Split(req.Role, ",")
	if len(online) > 1 {
		if err := checkOnlineRotation(online, req); err != nil {
			return nil, err
		}
	}
	change := func(r *tuf.Repo) error {
		if len(online) > 1 {
			return replaceOnlineKeys(ctx, r, online, added)
		}
		remove, err := resolveRemoveKeys(ctx, d, res, r, req.Role, req.RemoveKeys)
		if err != nil {
			return err
		}
		return r.Rotate(ctx, tuf.Rotation{Role: req.Role, Add: added, Remove: remove, Threshold: req.Threshold})
	}
	if req.Stage != "" {
		return stageRotation(ctx, d, repo, store, kr, change, req)
	}
	r, err := d.update(ctx, repo, store, kr, change)
	if err != nil {
		return nil, rotateError(d, repo, req.Role, withRepo(err, repo))
	}
	out, err := rotateResult(ctx, d, repo, req.Role, r)
	if err != nil {
		return nil, err
	}
	for _, role := range online[1:] {
		more, err := rotateResult(ctx, d, repo, role, r)
		if err != nil {
			return nil, err
		}
		out.Keys = append(out.Keys, more.Keys...)
	}
	out.RootVersion = r.Root().Signed.Version
	return out, nil
}

// checkOnlineRotation checks a rotation of several roles at once
// ("snapshot,timestamp"): only those two, one --add-key for each in order,
// and nothing else, since every current key of each is replaced.
func checkOnlineRotation(roles []string, req RotateRequest) error {
	seen := map[string]bool{}
	for _, role := range roles {
		if (role != metadata.SNAPSHOT && role != metadata.TIMESTAMP) || seen[role] {
			return errkind.Mark(errkind.Input, fmt.Errorf("rotating %s: only snapshot and timestamp can be rotated together (snapshot,timestamp)", req.Role))
		}
		seen[role] = true
	}
	if len(req.AddKeys) != len(roles) || len(req.RemoveKeys) > 0 || req.Threshold != 0 || req.Stage != "" {
		return errkind.Mark(errkind.Input, fmt.Errorf("rotating %s replaces every key of each: give one --add-key per role, in that order, and no --remove-key, --threshold or --stage", req.Role))
	}
	return nil
}

// replaceOnlineKeys replaces every key of each role with the new key given
// for it, in one new root: after a leak of the online keys (a stolen CI
// bundle), their versions then start again (fast-forward recovery).
func replaceOnlineKeys(ctx context.Context, r *tuf.Repo, roles []string, added []*metadata.Key) error {
	for i, role := range roles {
		ids, _ := r.RoleKeyIDs(role)
		if err := r.Rotate(ctx, tuf.Rotation{Role: role, Add: added[i : i+1], Remove: ids}); err != nil {
			return err
		}
	}
	return nil
}

// resolveAddKeys resolves --add-key references: a signing key when its
// private half is here (so a new root key can sign the new root), else
// its public key.
func resolveAddKeys(ctx context.Context, res *signer.Resolver, refs []string) ([]*metadata.Key, []*signer.Key, error) {
	var keys []*metadata.Key
	var signers []*signer.Key
	for _, ref := range refs {
		k, err := res.Resolve(ctx, ref)
		if errors.Is(err, keystore.ErrNoPrivateKey) {
			k, err = res.ResolvePublic(ctx, ref)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("--add-key %s: %w", ref, err)
		}
		if k.Signer != nil {
			signers = append(signers, k)
		}
		keys = append(keys, k.Public)
	}
	return keys, signers, nil
}

// resolveRemoveKeys turns --remove-key values into key IDs: a key ID or
// unambiguous prefix (4 or more hex digits) of one of the role's keys, or
// a key reference (keystore name, public key file) whose key ID is taken.
func resolveRemoveKeys(ctx context.Context, d *Deps, res *signer.Resolver, r *tuf.Repo, role string, refs []string) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	roles, err := r.Roles(ctx)
	if err != nil {
		return nil, err
	}
	var current []string
	for _, ri := range roles {
		if ri.Name == role {
			current = ri.KeyIDs
		}
	}
	var out []string
	for _, ref := range refs {
		var matches []string
		if len(ref) >= 4 && isHex(ref) {
			for _, id := range current {
				if strings.HasPrefix(id, strings.ToLower(ref)) {
					matches = append(matches, id)
				}
			}
		}
		switch {
		case len(matches) == 1:
			out = append(out, matches[0])
		case len(matches) > 1:
			return nil, errkind.Mark(errkind.Input, fmt.Errorf("--remove-key %s matches %d keys of %s: give more of the key ID", ref, len(matches), role))
		default:
			k, err := res.ResolvePublic(ctx, ref)
			if err != nil {
				return nil, errkind.Mark(errkind.Input, fmt.Errorf("--remove-key %s: not a key ID of the %s role, nor a key this machine knows (%v)", ref, role, err))
			}
			out = append(out, k.ID)
		}
	}
	return out, nil
}

func isHex(s string) bool {
	for _, c := range strings.ToLower(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// stageRotation applies the change and writes it as a ceremony file.
func stageRotation(ctx context.Context, d *Deps, repo name.Repository, store tufmeta.Store, kr tuf.Keyring, change func(*tuf.Repo) error, req RotateRequest) (*RotateResult, error) {
	rec := &recordingStore{Store: store}
	r, _, err := d.open(ctx, repo, rec, mustTrust)
	if err != nil {
		return nil, withRepo(err, repo)
	}
	if err := change(r); err != nil {
		return nil, err
	}
	c, err := r.Stage(ctx, kr, repo.Name())
	if err != nil {
		return nil, err
	}
	c.Base.Manifest = rec.digest
	if err := writeCeremony(req.Stage, c, true); err != nil {
		return nil, err
	}
	out, err := rotateResult(ctx, d, repo, req.Role, r)
	if err != nil {
		return nil, err
	}
	out.RootVersion = c.BaseRoot().Signed.Version
	if c.Root() != nil {
		out.RootVersion = c.Root().Signed.Version
	}
	out.Staged = req.Stage
	out.Ceremony = ceremonyStatus(d, c)
	return out, nil
}

// rotateResult describes role's keys as r holds them now.
func rotateResult(ctx context.Context, d *Deps, repo name.Repository, role string, r *tuf.Repo) (*RotateResult, error) {
	roles, err := r.Roles(ctx)
	if err != nil {
		return nil, err
	}
	names := d.keyNames()
	out := &RotateResult{Repository: repo.Name(), Role: role, Keys: []KeyInfo{}}
	for _, ri := range roles {
		if ri.Name != role {
			continue
		}
		out.Threshold = ri.Threshold
		for _, id := range ri.KeyIDs {
			out.Keys = append(out.Keys, KeyInfo{KeyID: id, Name: names[id]})
		}
	}
	return out, nil
}

// recordingStore notes the digest of the _tuf manifest it loaded.
type recordingStore struct {
	tufmeta.Store
	digest string
}

func (s *recordingStore) Load(ctx context.Context) (tufmeta.View, error) {
	v, err := s.Store.Load(ctx)
	if rv, ok := v.(registryView); ok && err == nil && len(rv.Files()) > 0 {
		s.digest = rv.Digest().String()
	}
	return v, err
}

// missingKeysError keeps the tuf error for errors.As while saying what to do.
type missingKeysError struct {
	msg string
	err error
}

func (e *missingKeysError) Error() string { return e.msg }
func (e *missingKeysError) Unwrap() error { return e.err }

// rotateError explains missing keys: which, by name, and the ways on.
func rotateError(d *Deps, repo name.Repository, role string, err error) error {
	var mk *tuf.MissingKeysError
	if !errors.As(err, &mk) {
		return err
	}
	names := d.keyNames()
	var parts []string
	rootMissing := false
	for _, t := range mk.Thresholds {
		if t.Met() {
			continue
		}
		rootMissing = rootMissing || t.Metadata == metadata.ROOT
		parts = append(parts, fmt.Sprintf("%d of %d keys of %s at hand, missing %s", len(t.Signed), t.Threshold, t.Label, describeKeys(t.Missing(), names)))
	}
	msg := fmt.Sprintf("rotating %s of %s: %s; run it again with --stage FILE to collect the signatures with signet ceremony sign where the keys are",
		role, repo.Name(), strings.Join(parts, "; "))
	if rootMissing {
		msg += fmt.Sprintf("; if those root keys are lost, %s cannot be recovered: initialise it again under a new root (docs/rotation.md) and have every consumer run signet trust forget %s and signet trust pin %s --root FILE",
			repo.Name(), repo.Name(), repo.Name())
	}
	return errkind.Mark(errkind.Key, &missingKeysError{msg: msg, err: err})
}

// describeKeys renders key IDs short, with keystore names when known.
func describeKeys(ids []string, names map[string]string) string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		s := keyid.Short(id)
		if n := names[id]; n != "" {
			s += " (" + n + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}
