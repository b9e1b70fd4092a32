package app

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/keyid"
	"github.com/signet-dev/signet/internal/localfile"
	"github.com/signet-dev/signet/internal/pemcert"
	"github.com/signet-dev/signet/notary"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/signer"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// maxPEMFile bounds a certificate file given with --root-cert or --ca-cert.
const maxPEMFile = 1 << 20

// ImportRequest is `signet import notary GUN --server URL --to R`.
type ImportRequest struct {
	GUN    string // the Notary repository, such as docker.io/team/app
	Server string // the Notary server, https://HOST (http:// for loopback)
	To     string // the signet repository R, already initialised
	// RootCert is a PEM file with the Notary root certificate to pin; empty
	// trusts the served root on first use, which Import announces.
	RootCert string
	// CACert is a PEM file of CAs for the server's TLS certificate; empty
	// uses the system roots.
	CACert string
	// Insecure allows plain HTTP to a server that is not on loopback.
	Insecure bool
	Role     string // signet role to sign into; empty means targets
	Key      string // key reference; empty: the role's keys in the keystore or SIGNET_KEY
	DryRun   bool   // report what would be imported and change nothing
}

// Actions of an ImportTag.
const (
	ActionImport   = "import"   // dry run: would be imported
	ActionImported = "imported" // signed into the signet repository
	ActionSkip     = "skip"     // not imported; Reason says why
)

// ImportTag is one tag of the Notary repository and what became of it.
type ImportTag struct {
	Tag    string `json:"tag"`
	Digest string `json:"digest,omitempty"`
	Size   int64  `json:"size"`
	// NotaryRole is the role `docker trust` takes the tag from
	// (targets/releases, else targets); empty when none.
	NotaryRole string `json:"notaryRole,omitempty"`
	// Signers are the Notary roles that sign the same digest for the tag.
	Signers []string `json:"signers"`
	Action  string   `json:"action"`
	Reason  string   `json:"reason,omitempty"`
}

// ImportResult is what Import found and did.
type ImportResult struct {
	GUN        string      `json:"gun"`
	Server     string      `json:"server"`
	Repository string      `json:"repository"`
	Role       string      `json:"role"`
	Pinned     bool        `json:"pinned"`
	RootKeyIDs []string    `json:"notaryRootKeyIDs"`
	DryRun     bool        `json:"dryRun,omitempty"`
	Tags       []ImportTag `json:"tags"`
	Imported   int         `json:"imported"`
	Skipped    int         `json:"skipped"`
}

// Import verifies a Notary repository by Notary's rules and signs its
// released tags into the signet repository req.To, in one publish. A tag is
// imported only while the registry still serves, at To:tag, the manifest
// digest and length that Notary signed; every other tag is reported as
// skipped, with the reason. A Notary repository that fails verification is
// refused as a whole (errkind.Verification) and nothing is written.
func Import(ctx context.Context, d *Deps, req ImportRequest) (*ImportResult, error) {
	repo, err := registry.ParseRepository(req.To)
	if err != nil {
		return nil, err
	}
	role := req.Role
	if role == "" {
		role = metadata.TARGETS
	}
	nrepo, err := fetchNotary(ctx, d, req)
	if err != nil {
		return nil, err
	}
	if !nrepo.Pinned {
		d.notice("trusting the Notary root of %s on first use (root key %s); pin it with --root-cert", req.GUN, strings.Join(keyid.Shorts(nrepo.RootKeyIDs), ", "))
	}
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	// Refuse early, before the registry is asked about every tag, when R
	// has no trust data or no such role.
	current, _, err := d.open(ctx, repo, store, mustTrust)
	if err != nil {
		return nil, withRepo(err, repo)
	}
	if err := checkImportRole(current, role, nil); err != nil {
		return nil, err
	}

	res := &ImportResult{GUN: req.GUN, Server: req.Server, Repository: repo.Name(), Role: role,
		Pinned: nrepo.Pinned, RootKeyIDs: nrepo.RootKeyIDs, DryRun: req.DryRun}
	var targets []tuf.Target
	for _, nt := range nrepo.Tags() {
		it, target, err := checkTag(ctx, d, repo, nt)
		if err != nil {
			return nil, err
		}
		if target != nil {
			targets = append(targets, *target)
		}
		res.Tags = append(res.Tags, it)
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	if err := checkImportRole(current, role, names); err != nil {
		return nil, err
	}
	if !req.DryRun && len(targets) > 0 {
		if err := publishImport(ctx, d, repo, store, req.Key, role, names, targets); err != nil {
			return nil, withRepo(err, repo)
		}
	}
	for i := range res.Tags {
		switch {
		case res.Tags[i].Action == ActionSkip:
			res.Skipped++
		case !req.DryRun:
			res.Tags[i].Action = ActionImported
			res.Imported++
		}
	}
	return res, nil
}

// fetchNotary reads and verifies the Notary repository.
func fetchNotary(ctx context.Context, d *Deps, req ImportRequest) (*notary.Repository, error) {
	opts := []notary.Option{notary.WithClock(d.now)}
	if req.RootCert != "" {
		certs, err := readCerts(req.RootCert)
		if err != nil {
			return nil, fmt.Errorf("--root-cert: %w", err)
		}
		opts = append(opts, notary.WithRootCert(certs...))
	}
	if req.CACert != "" {
		certs, err := readCerts(req.CACert)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		for _, c := range certs {
			pool.AddCert(c)
		}
		opts = append(opts, notary.WithRootCAs(pool))
	}
	if req.Insecure {
		opts = append(opts, notary.WithInsecure())
	}
	c, err := notary.New(req.Server, opts...)
	if err != nil {
		return nil, err
	}
	nrepo, err := c.Fetch(ctx, req.GUN)
	if err != nil {
		return nil, fmt.Errorf("notary repository %s refused, nothing imported: %w", req.GUN, err)
	}
	return nrepo, nil
}

// checkTag decides whether one Notary tag can be imported: released,
// hashed with sha256, a valid tag, and still served by the registry with
// the signed digest and length. It returns the target to sign, or nil.
func checkTag(ctx context.Context, d *Deps, repo name.Repository, nt notary.Tag) (ImportTag, *tuf.Target, error) {
	it := ImportTag{Tag: nt.Name, Digest: nt.Digest(), Size: nt.Length, NotaryRole: nt.Role, Signers: nt.Signers, Action: ActionImport}
	if it.Signers == nil {
		it.Signers = []string{}
	}
	skip := func(format string, args ...any) (ImportTag, *tuf.Target, error) {
		it.Action, it.Reason = ActionSkip, fmt.Sprintf(format, args...)
		return it, nil, nil
	}
	switch {
	case nt.Role == "":
		return skip("signed only by %s, which docker trust does not pull from", strings.Join(nt.Signers, ", "))
	case it.Digest == "":
		return skip("Notary gives no sha256 hash")
	case nt.Name == registry.MetadataTag:
		return skip("the tag %s is reserved for signet's trust data", registry.MetadataTag)
	}
	tag, err := name.NewTag(repo.Name()+":"+nt.Name, name.StrictValidation)
	if err != nil {
		return skip("not a valid tag name")
	}
	desc, err := d.Registry.Resolve(ctx, tag)
	if errors.Is(err, registry.ErrNotFound) {
		return skip("%s is not in the registry", tag)
	}
	if err != nil {
		return it, nil, err
	}
	if desc.Digest.Algorithm != "sha256" || desc.Digest.Hex != hex.EncodeToString(nt.SHA256) || desc.Size != nt.Length {
		return skip("the registry serves %s (%d bytes), Notary signed %s (%d bytes)", desc.Digest, desc.Size, it.Digest, nt.Length)
	}
	return it, &tuf.Target{Name: nt.Name, Length: desc.Size, SHA256: desc.Digest.Hex, MediaType: string(desc.MediaType)}, nil
}

// checkImportRole checks that role is targets or a delegation of r whose
// paths cover every name.
func checkImportRole(r *tuf.Repo, role string, names []string) error {
	if role == metadata.TARGETS {
		return nil
	}
	if d := r.Targets().Signed.Delegations; d != nil {
		for i := range d.Roles {
			dr := &d.Roles[i]
			if dr.Name != role {
				continue
			}
			for _, n := range names {
				if ok, err := dr.IsDelegatedPath(n); err != nil || !ok {
					return errkind.Mark(errkind.Verification, fmt.Errorf("%w: %s may not sign %s (outside its delegated paths)", tuf.ErrNotAllowed, role, n))
				}
			}
			return nil
		}
	}
	return errkind.Mark(errkind.Input, fmt.Errorf("no role %s in the signet repository: add it with signet delegate add, or leave out --role", role))
}

// publishImport signs every target into role in one publish.
func publishImport(ctx context.Context, d *Deps, repo name.Repository, store tufmeta.Store, keyRef, role string, names []string, targets []tuf.Target) error {
	res, err := d.Resolver()
	if err != nil {
		return err
	}
	var key *signer.Key
	if keyRef != "" {
		if key, err = res.Resolve(ctx, keyRef); err != nil {
			return err
		}
	}
	_, err = d.update(ctx, repo, store, d.namedKeyring(repo, res, key), func(r *tuf.Repo) error {
		if err := checkImportRole(r, role, names); err != nil {
			return err
		}
		return r.AddTargets(ctx, role, targets)
	})
	return err
}

// readCerts reads every certificate of a PEM file.
func readCerts(path string) ([]*x509.Certificate, error) {
	b, err := localfile.Read(path, maxPEMFile)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, err)
	}
	certs, err := pemcert.Parse(b)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s: %w", path, err))
	}
	if len(certs) == 0 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("%s: no PEM certificate", path))
	}
	return certs, nil
}
