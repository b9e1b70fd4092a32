package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/keystore"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/tuf"
)

// CeremonyKey is one key a threshold lists, with what this machine knows
// of it.
type CeremonyKey struct {
	KeyID  string `json:"keyid"`
	Name   string `json:"name,omitempty"`
	Serial uint32 `json:"yubikeySerial,omitempty"`
	Slot   string `json:"yubikeySlot,omitempty"`
	Signed bool   `json:"signed"`
}

// CeremonyThreshold is one requirement of a proposed file.
type CeremonyThreshold struct {
	Metadata  string        `json:"metadata"`
	Version   int64         `json:"version"`
	Label     string        `json:"label"`
	Threshold int           `json:"threshold"`
	Signed    int           `json:"signed"`
	Met       bool          `json:"met"`
	Keys      []CeremonyKey `json:"keys"`
}

// ProposedFile is one metadata file of a ceremony.
type ProposedFile struct {
	Name        string    `json:"name"`
	Version     int64     `json:"version"`
	Expires     time.Time `json:"expires"`
	Fingerprint string    `json:"fingerprint"`
}

// CeremonyStatus is `signet ceremony status FILE`: what is proposed, who
// has signed and who must still sign, per threshold.
type CeremonyStatus struct {
	File            string              `json:"file,omitempty"`
	Repository      string              `json:"repository"`
	BaseRootVersion int64               `json:"baseRootVersion"`
	BaseManifest    string              `json:"baseManifest,omitempty"`
	Proposed        []ProposedFile      `json:"proposed"`
	Changes         []string            `json:"changes"`
	Thresholds      []CeremonyThreshold `json:"thresholds"`
	Complete        bool                `json:"complete"`
	// SignedNow lists the files `ceremony sign` signed in this call.
	SignedNow []string `json:"signedNow,omitempty"`
}

// CeremonyStatusOf reads a staged ceremony file and reports its state.
// It needs no registry and no passphrase.
func CeremonyStatusOf(ctx context.Context, d *Deps, file string) (*CeremonyStatus, error) {
	c, err := readCeremony(file)
	if err != nil {
		return nil, err
	}
	st := ceremonyStatus(d, c)
	st.File = file
	return st, nil
}

// CeremonySignRequest is `signet ceremony sign FILE --key REF`.
type CeremonySignRequest struct {
	File string
	Key  string
}

// CeremonySign adds the signatures of one key to a staged ceremony file,
// offline: every proposed file whose thresholds list the key is signed.
// A key the ceremony does not need, or one that has signed already, is an
// errkind.Input error and the file is left as it was.
func CeremonySign(ctx context.Context, d *Deps, req CeremonySignRequest) (*CeremonyStatus, error) {
	if req.Key == "" {
		return nil, errkind.Mark(errkind.Input, errors.New("ceremony sign needs --key REF"))
	}
	c, err := readCeremony(req.File)
	if err != nil {
		return nil, err
	}
	repo, err := registry.ParseRepository(c.Repository)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("staged ceremony: %w", err))
	}
	if err := d.checkCeremonyBase(repo, c); err != nil {
		return nil, err
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	key, err := res.Resolve(ctx, req.Key)
	if err != nil {
		return nil, err
	}
	names := d.keyNames()
	if !c.Lists(key.ID) {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%w: %s; it needs %s", tuf.ErrNotNeeded, describeKeys([]string{key.ID}, names), neededKeys(c, names)))
	}
	signed, err := c.Sign(ctx, newKeyring(repo, nil, key))
	if err != nil {
		return nil, err
	}
	if len(signed) == 0 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("key %s has already signed %s", describeKeys([]string{key.ID}, names), req.File))
	}
	if err := writeCeremony(req.File, c, false); err != nil {
		return nil, err
	}
	st := ceremonyStatus(d, c)
	st.File, st.SignedNow = req.File, signed
	return st, nil
}

// CeremonyPublishResult is `signet ceremony publish FILE`.
type CeremonyPublishResult struct {
	Repository  string   `json:"repository"`
	RootVersion int64    `json:"rootVersion"`
	Published   []string `json:"published"`
}

// CeremonyPublish publishes a staged ceremony once every threshold is met,
// signing a new snapshot and timestamp with the online keys at hand. It
// refuses an incomplete ceremony with errkind.Verification (exit 1: the
// check that every required key signed failed), and with errkind.Input a
// ceremony whose base the registry has moved on from (its root, or a
// targets role it replaces, was published anew since it was staged).
func CeremonyPublish(ctx context.Context, d *Deps, file string) (*CeremonyPublishResult, error) {
	c, err := readCeremony(file)
	if err != nil {
		return nil, err
	}
	repo, err := registry.ParseRepository(c.Repository)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("staged ceremony: %w", err))
	}
	if !c.Complete() {
		names := d.keyNames()
		var parts []string
		for _, t := range c.Thresholds() {
			if !t.Met() {
				parts = append(parts, fmt.Sprintf("%s version %d has %d of %d signatures of %s (missing %s)", t.Metadata, t.Version, len(t.Signed), t.Threshold, t.Label, describeKeys(t.Missing(), names)))
			}
		}
		return nil, errkind.Mark(errkind.Verification, fmt.Errorf("ceremony incomplete: %s: collect them with signet ceremony sign %s --key REF", strings.Join(parts, "; "), file))
	}
	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	t, err := d.trustFor(ctx, repo, mustTrust)
	if err != nil {
		return nil, err
	}
	r, err := tuf.PublishCeremony(ctx, store, c, d.keyring(repo, res), t.opts...)
	if err != nil {
		if errors.Is(err, tuf.ErrBaseMoved) {
			return nil, fmt.Errorf("publishing %s: %w", file, err)
		}
		return nil, withRepo(err, repo)
	}
	d.keepTrust(ctx, repo, t, r)
	return &CeremonyPublishResult{Repository: repo.Name(), RootVersion: r.Root().Signed.Version, Published: c.Proposed()}, nil
}

// readCeremony reads and checks a staged ceremony file, size-bounded.
func readCeremony(file string) (*tuf.Ceremony, error) {
	data, err := localfile.Read(file, tuf.MaxCeremonySize)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("reading the ceremony: %w", err))
	}
	c, err := tuf.ParseCeremony(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// writeCeremony writes c to file atomically, keeping the file's mode, or
// 0644 for a new file (it holds no secret and travels between people).
func writeCeremony(file string, c *tuf.Ceremony, create bool) error {
	data, err := c.Marshal()
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if !create {
		if fi, err := os.Stat(file); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	if err := keystore.WriteFileAtomic(file, append(data, '\n'), mode); err != nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("writing the ceremony: %w", err))
	}
	return nil
}

// ceremonyStatus describes c with the names and YubiKey serials this
// machine's keystore knows.
func ceremonyStatus(d *Deps, c *tuf.Ceremony) *CeremonyStatus {
	known := d.keyInfos()
	st := &CeremonyStatus{Repository: c.Repository, BaseRootVersion: c.Base.RootVersion, BaseManifest: c.Base.Manifest, Complete: true}
	for _, name := range c.Proposed() {
		pf := ProposedFile{Name: name}
		pf.Fingerprint, _ = c.Fingerprint(name)
		pf.Version, pf.Expires, _ = c.File(name)
		st.Proposed = append(st.Proposed, pf)
	}
	for _, t := range c.Thresholds() {
		ct := CeremonyThreshold{Metadata: t.Metadata, Version: t.Version, Label: t.Label, Threshold: t.Threshold, Signed: len(t.Signed), Met: t.Met()}
		for _, id := range t.KeyIDs {
			k := CeremonyKey{KeyID: id, Signed: slices.Contains(t.Signed, id)}
			if ki, ok := known[id]; ok {
				k.Name = ki.Name
				if ki.Kind == keystore.Hardware {
					k.Serial, k.Slot = ki.Serial, ki.Slot
				}
			}
			ct.Keys = append(ct.Keys, k)
		}
		st.Complete = st.Complete && ct.Met
		st.Thresholds = append(st.Thresholds, ct)
	}
	st.Changes = ceremonyChanges(c, known)
	return st
}

// ceremonyChanges summarises what a proposed root changes against the base
// root, role by role, for signers to review.
func ceremonyChanges(c *tuf.Ceremony, known map[string]keystore.KeyInfo) []string {
	out := []string{}
	if c.Root() == nil {
		for _, n := range c.Proposed() {
			out = append(out, n+": re-signed")
		}
		return out
	}
	name := func(id string) string {
		s := keyid.Short(id)
		if ki, ok := known[id]; ok {
			s += " (" + ki.Name + ")"
		}
		return s
	}
	base, next := c.BaseRoot().Signed, c.Root().Signed
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		was, now := base.Roles[role], next.Roles[role]
		var diff []string
		for _, id := range now.KeyIDs {
			if !slices.Contains(was.KeyIDs, id) {
				diff = append(diff, "+"+name(id))
			}
		}
		for _, id := range was.KeyIDs {
			if !slices.Contains(now.KeyIDs, id) {
				diff = append(diff, "-"+name(id))
			}
		}
		if was.Threshold != now.Threshold {
			diff = append(diff, fmt.Sprintf("threshold %d -> %d", was.Threshold, now.Threshold))
		}
		if len(diff) > 0 {
			out = append(out, role+": "+strings.Join(diff, ", "))
		}
	}
	if len(out) == 0 {
		out = append(out, "root: re-signed, no key changes")
	}
	for _, n := range c.Proposed() {
		if n != metadata.ROOT {
			out = append(out, n+": re-signed with its keys in the proposed metadata")
		}
	}
	return out
}

// neededKeys lists the keys that have not signed yet.
func neededKeys(c *tuf.Ceremony, names map[string]string) string {
	var ids []string
	for _, t := range c.Thresholds() {
		for _, id := range t.Missing() {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return "no more signatures"
	}
	return describeKeys(ids, names)
}

// keyInfos maps key IDs to what the keystore records, best effort.
func (d *Deps) keyInfos() map[string]keystore.KeyInfo {
	out := map[string]keystore.KeyInfo{}
	if d.Keystore == nil {
		return out
	}
	ks, err := d.Keystore()
	if err != nil {
		return out
	}
	list, err := ks.List()
	if err != nil {
		return out
	}
	for _, k := range list {
		out[k.KeyID] = k
	}
	return out
}

// checkCeremonyBase compares the root a ceremony was staged on with the
// root this machine trusts for the repository, when it trusts one: a key
// signs no proposal built on a root it does not know. The same version
// must be the same root; a newer trusted root makes the ceremony stale. An
// older trusted root cannot be checked offline: the signer compares the
// fingerprints that ceremony status prints.
func (d *Deps) checkCeremonyBase(repo name.Repository, c *tuf.Ceremony) error {
	trusted, err := d.homeRoot(repo)
	if err != nil || trusted == nil {
		return err
	}
	v, err := tuf.TrustedRootVersionOf(trusted)
	if err != nil {
		return err
	}
	base := c.BaseRoot()
	switch {
	case v > base.Signed.Version:
		return errkind.Mark(errkind.Input, fmt.Errorf("%w: this machine trusts root version %d of %s, the ceremony was staged on version %d: stage the change again", tuf.ErrBaseMoved, v, repo.Name(), base.Signed.Version))
	case v == base.Signed.Version && !tuf.SameSignedRoot(trusted, base):
		return errkind.Mark(errkind.Verification, fmt.Errorf("forged trust data: the ceremony's base root version %d is not the root this machine trusts for %s; refusing to sign it", v, repo.Name()))
	}
	return nil
}
