// Package app carries out signet's commands by composing the tuf,
// registry, signer, keystore and piv packages: the repository commands
// (init, push, sign, verify, pull, inspect, revoke, refresh, status,
// delegate, rotate, ceremony, import), and the work behind the key, trust
// and yubikey commands (key names, trusted roots, the keystore records of
// YubiKey keys). It is the only orchestrator: cmd/signet parses flags,
// calls one function here and renders its result, whose type (with its
// `-o json` names) is defined here; nothing here prints or prompts.
package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/piv"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/signer"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tufmeta"
	"github.com/signet-dev/signet/tuf/verify"
)

// Deps are what the commands work with. Keystore and Resolver are
// constructors, called only by commands that need keys, so that `verify`
// never asks for a passphrase.
type Deps struct {
	Registry *registry.Client
	Keystore func() (*keystore.Store, error)
	Resolver func() (*signer.Resolver, error)
	// Notice receives one-line status messages for stderr, such as the
	// announcement of trust on first use. May be nil.
	Notice func(msg string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AttestationRoots returns the roots YubiKey attestations must chain
	// to (Yubico's, plus test roots); used by init --require-attestation.
	AttestationRoots func() (*piv.Roots, error)
	// MetadataRepo overrides where the trust data lives (--metadata-repo):
	// a repository whose `_tuf` tag holds it. Empty means the image's own.
	MetadataRepo string
	// RootFile is --root: the root.json a command starts from, ahead of
	// the one kept in the signet home.
	RootFile string
	// ReadRoot, when set, gives the bytes of a root file named by RootFile
	// or a request, instead of reading the file: the admission server
	// reads its policy's roots once, at start.
	ReadRoot func(path string) ([]byte, error)
}

// readRoot returns the root.json that path names (ReadRoot, else the file).
func (d *Deps) readRoot(path string) ([]byte, error) {
	if d.ReadRoot != nil {
		return d.ReadRoot(path)
	}
	return readRootFile(path)
}

func (d *Deps) notice(format string, args ...any) {
	if d.Notice != nil {
		d.Notice(fmt.Sprintf(format, args...))
	}
}

func (d *Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deps) repoOptions() []tuf.RepoOption {
	return []tuf.RepoOption{tuf.WithClock(d.now)}
}

// update is tuf.Update of repo's trust data from the root this machine
// trusts, keeping the newest root reached as the trusted one.
func (d *Deps) update(ctx context.Context, repo name.Repository, store tufmeta.Store, keys tuf.Keyring, change func(*tuf.Repo) error) (*tuf.Repo, error) {
	t, err := d.trustFor(ctx, repo, mustTrust)
	if err != nil {
		return nil, noTrustData(ctx, store, err)
	}
	r, err := tuf.Update(ctx, store, keys, change, t.opts...)
	if err != nil {
		return nil, err
	}
	d.keepTrust(ctx, repo, t, r)
	return r, nil
}

// open is tuf.Open of repo's trust data from the root this machine trusts
// (mode says what happens when none is).
func (d *Deps) open(ctx context.Context, repo name.Repository, store tufmeta.Store, mode trustMode) (*tuf.Repo, *trust, error) {
	t, err := d.trustFor(ctx, repo, mode)
	if err != nil {
		return nil, nil, noTrustData(ctx, store, err)
	}
	r, err := tuf.Open(ctx, store, t.opts...)
	if err != nil {
		return nil, nil, err
	}
	return r, t, nil
}

// noTrustData turns the refusal to start without a trusted root into
// ErrNoRepository when the store holds no trust data at all: then the
// next step is signet init, not a pin.
func noTrustData(ctx context.Context, store tufmeta.Store, err error) error {
	if !errors.Is(err, errNoTrustedRoot) {
		return err
	}
	if view, lerr := store.Load(ctx); lerr == nil && len(view.Files()) == 0 {
		return errkind.Mark(errkind.Input, tufmeta.ErrNoRepository)
	}
	return err
}

// keepTrust is advanceTrust after a command succeeded: its failure to
// write the home is told, not returned, since the command's work is done.
func (d *Deps) keepTrust(ctx context.Context, repo name.Repository, t *trust, r *tuf.Repo) {
	if err := d.advanceTrust(ctx, repo, t, r); err != nil {
		d.notice("could not keep root version %d of %s as trusted: %v", r.Root().Signed.Version, repo.Name(), err)
	}
}

// metadataTag returns the tag holding the trust data of repo.
func (d *Deps) metadataTag(repo name.Repository) (name.Tag, error) {
	if d.MetadataRepo == "" {
		return registry.MetadataRef(repo), nil
	}
	other, err := registry.ParseRepository(d.MetadataRepo)
	if err != nil {
		return name.Tag{}, fmt.Errorf("--metadata-repo: %w", err)
	}
	return registry.MetadataRef(other), nil
}

// store returns the tufmeta.Store over the registry for repo's trust data.
func (d *Deps) store(repo name.Repository) (tufmeta.Store, error) {
	tag, err := d.metadataTag(repo)
	if err != nil {
		return nil, err
	}
	return &registryStore{client: d.Registry, tag: tag, home: d.cacheHome()}, nil
}

// cacheHome is the signet home whose metadata cache the commands use, or
// "" (no cache) when there is no keystore.
func (d *Deps) cacheHome() string {
	if d.Keystore == nil {
		return ""
	}
	ks, err := d.Keystore()
	if err != nil {
		return ""
	}
	return ks.Home()
}

// registryStore adapts the registry's metadata artifact to tufmeta.Store, with
// the metadata cache of the signet home in front of it (cache.go).
type registryStore struct {
	client *registry.Client
	tag    name.Tag
	home   string
}

func (s *registryStore) Load(ctx context.Context) (tufmeta.View, error) {
	m, err := s.client.Metadata(ctx, s.tag)
	if errors.Is(err, registry.ErrNoMetadata) {
		return withCache(registryView{s.client.EmptyMetadata(s.tag)}, s.home), nil
	}
	if err != nil {
		return nil, err
	}
	return withCache(registryView{m}, s.home), nil
}

// registryView maps the registry's conflict error to tufmeta's and names its
// content by the manifest digest (verify.IdentifiedView), which lets verify
// remember its lookups.
type registryView struct{ *registry.Metadata }

// Identity is the digest of the manifest this view was read from (computed
// from its bytes), or "" for trust data that does not exist yet.
func (v registryView) Identity() string {
	if d := v.Metadata.Digest(); d.Hex != "" {
		return d.String()
	}
	return ""
}

var _ verify.IdentifiedView = registryView{}

func (v registryView) Publish(ctx context.Context, put map[string][]byte, remove []string) error {
	err := v.Metadata.Publish(ctx, put, remove)
	if errors.Is(err, registry.ErrConflict) {
		return fmt.Errorf("%w: %w", tufmeta.ErrConflict, err)
	}
	return err
}

// keyring hands tuf the keys it asks for: the key the user named first,
// then any key of the keystore or of SIGNET_KEY with that ID. A YubiKey
// signer is told what it signs, for the "touch your YubiKey" line.
type keyring struct {
	resolver *signer.Resolver
	explicit map[string]*signer.Key
	repo     string
	// notice, when set, is told why tuf asks for the keys again.
	notice func(format string, args ...any)
	// onlyExplicit restricts the targets roles (targets, its bins,
	// delegations) to the explicit keys: `--key A` signs with A alone and
	// never adds another key of the role that happens to be at hand.
	// Snapshot and timestamp still come from the keys at hand.
	onlyExplicit bool
}

// Retrying implements tuf.Retrier: before a YubiKey asks for another
// touch, the user learns why.
func (k *keyring) Retrying(attempt, max int, cause error) {
	if k.notice != nil {
		k.notice("re-signing because another publisher changed the trust data of %s (attempt %d of %d)", k.repo, attempt, max)
	}
}

func newKeyring(repo name.Repository, r *signer.Resolver, explicit ...*signer.Key) *keyring {
	k := &keyring{resolver: r, explicit: map[string]*signer.Key{}, repo: repo.Name()}
	for _, e := range explicit {
		if e != nil {
			k.explicit[e.ID] = e
		}
	}
	return k
}

// keyring is newKeyring for a command that publishes: the user is told
// when a lost race with another publisher makes it sign again.
func (d *Deps) keyring(repo name.Repository, r *signer.Resolver, explicit ...*signer.Key) *keyring {
	k := newKeyring(repo, r, explicit...)
	k.notice = d.notice
	return k
}

// namedKeyring is keyring for a command that signs a targets role with
// the one key the user named (--key), when key is not nil: that key alone
// signs the targets roles (onlyExplicit); snapshot and timestamp come
// from the keys at hand.
func (d *Deps) namedKeyring(repo name.Repository, r *signer.Resolver, key *signer.Key) *keyring {
	k := d.keyring(repo, r, key)
	k.onlyExplicit = key != nil
	return k
}

var _ tuf.Unlocker = (*keyring)(nil)

// Unlock implements tuf.Unlocker: before the first signature, the
// software keys that may sign are opened, so that their passphrase is
// asked before any YubiKey's PIN and touch. Keys named explicitly were
// opened already; each other key ID is handed to the resolver once.
func (k *keyring) Unlock(ctx context.Context, need []tuf.RoleKeys) error {
	if k.resolver == nil {
		return nil
	}
	var ids []string
	for _, rk := range need {
		if !k.mayUse(rk.Role) {
			continue
		}
		for _, id := range rk.KeyIDs {
			if _, ok := k.explicit[id]; !ok {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	return k.resolver.Unlock(ctx, slices.Compact(ids)...)
}

// mayUse tells whether keys other than the explicit ones may sign role.
func (k *keyring) mayUse(role string) bool {
	return !k.onlyExplicit || role == metadata.SNAPSHOT || role == metadata.TIMESTAMP
}

func (k *keyring) Signer(ctx context.Context, keyID, role string) (signature.Signer, error) {
	key, ok := k.explicit[keyID]
	if !ok {
		if !k.mayUse(role) {
			return nil, tuf.ErrKeyNotFound
		}
		if k.resolver == nil {
			return nil, tuf.ErrKeyNotFound
		}
		var err error
		key, err = k.resolver.ByKeyID(ctx, keyID)
		if errors.Is(err, signer.ErrKeyNotFound) {
			return nil, fmt.Errorf("%w: %w", tuf.ErrKeyNotFound, err)
		}
		if err != nil {
			return nil, err
		}
	}
	if card, ok := key.Signer.(piv.Signer); ok {
		return card.WithPurpose(role + " for " + k.repo), nil
	}
	return key.Signer, nil
}

// parseTagRef parses R:T, which must name a tag (not a digest).
func parseTagRef(s string) (name.Tag, error) {
	t, err := registry.ParseTag(s)
	if err != nil {
		return name.Tag{}, err
	}
	return t, nil
}

// sameRepository checks that every tag is in one repository.
func sameRepository(tags []name.Tag) error {
	for _, t := range tags[1:] {
		if t.Context().Name() != tags[0].Context().Name() {
			return errkind.Mark(errkind.Input, fmt.Errorf("%s and %s are in different repositories: sign one repository at a time", tags[0], t))
		}
	}
	return nil
}
