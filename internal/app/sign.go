package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"golang.org/x/sync/errgroup"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/registry"
	"github.com/signet-dev/signet/signer"
	"github.com/signet-dev/signet/tuf"
	"github.com/signet-dev/signet/tuf/tufmeta"
)

// SignRequest is `signet sign R:T...` and the signing half of `push`.
type SignRequest struct {
	Tags []string // R:T, all in one repository
	Key  string   // key reference; empty: the repository's targets key from the keystore
	// Descriptors, when set, are what the tags were just pushed as, so the
	// registry is not asked again; keyed by the tag as given.
	Descriptors map[string]v1.Descriptor

	// key is Key already resolved (DockerPush checked it before docker
	// ran), so that an encrypted key file does not ask twice.
	key *signer.Key
}

// Signed is one signed tag.
type Signed struct {
	Tag       string `json:"tag"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	MediaType string `json:"mediaType"`
	Role      string `json:"role"`
}

// SignResult lists what was signed, into which role, by which key.
type SignResult struct {
	Repository string   `json:"repository"`
	Signed     []Signed `json:"signed"`
	KeyID      string   `json:"keyid"`
	Key        string   `json:"key,omitempty"`
	// Pending lists the delegated roles this publish left below their
	// threshold of signatures: other holders of their keys must sign.
	Pending []tuf.PendingRole `json:"pending,omitempty"`
}

// Sign signs what each tag points to now into the role the key holds, in
// one publish. A key that may not sign a tag makes the whole call fail
// before anything is published.
func Sign(ctx context.Context, d *Deps, req SignRequest) (*SignResult, error) {
	return sign(ctx, d, req, nil)
}

// sign is Sign; beforePublish, when not nil, runs after every key has
// signed and before the trust data is published, at each attempt.
func sign(ctx context.Context, d *Deps, req SignRequest, beforePublish func(context.Context) error) (*SignResult, error) {
	if len(req.Tags) == 0 {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("nothing to sign: name at least one R:T"))
	}
	tags := make([]name.Tag, 0, len(req.Tags))
	for _, s := range req.Tags {
		t, err := parseTagRef(s)
		if err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	if err := sameRepository(tags); err != nil {
		return nil, err
	}
	d.prewarmKeys(ctx)
	repo := tags[0].Context()
	store, err := d.store(repo)
	if err != nil {
		return nil, err
	}
	if beforePublish != nil {
		store = hookedStore{Store: store, before: beforePublish}
	}

	descs, err := resolveAll(ctx, d.Registry, tags, req)
	if err != nil {
		return nil, err
	}
	targets := make([]tuf.Target, 0, len(tags))
	names := make([]string, 0, len(tags))
	for i, t := range tags {
		desc := descs[i]
		targets = append(targets, tuf.Target{Name: t.TagStr(), Length: desc.Size, SHA256: desc.Digest.Hex, MediaType: string(desc.MediaType)})
		names = append(names, t.TagStr())
	}

	res, err := d.Resolver()
	if err != nil {
		return nil, err
	}
	key := req.key
	if key == nil && req.Key != "" {
		if key, err = res.Resolve(ctx, req.Key); err != nil {
			return nil, err
		}
	}
	kr := d.namedKeyring(repo, res, key)

	var role string
	var prepare sync.Once
	chosen := false
	pub, err := d.update(ctx, repo, store, kr, func(r *tuf.Repo) error {
		if req.Key == "" && !chosen {
			c, err := chooseKey(ctx, res, r, names)
			if err != nil {
				return err
			}
			chosen = true
			d.notice("%s", c.announce())
			if c.role != metadata.TARGETS {
				if key, err = res.ByKeyID(ctx, c.held[0].KeyID); err != nil {
					return err
				}
				kr.explicit[key.ID] = key
				kr.onlyExplicit = true
			}
		}
		keyID := ""
		if key != nil {
			keyID = key.ID
		}
		var err error
		if role, err = r.RoleFor(ctx, keyID, names); err != nil {
			return err
		}
		if err := r.AddTargets(ctx, role, targets); err != nil {
			return err
		}
		prepare.Do(func() { d.prepareUploads(ctx, repo) })
		return nil
	})
	if err != nil {
		return nil, withRepo(err, repo)
	}
	noticePending(d, pub, req.Tags)
	out := &SignResult{Repository: repo.Name(), Pending: pub.Pending()}
	if key != nil {
		out.KeyID, out.Key = key.ID, key.Name
	}
	for i, t := range targets {
		out.Signed = append(out.Signed, Signed{Tag: tags[i].String(), Digest: "sha256:" + t.SHA256, Size: t.Length, MediaType: t.MediaType, Role: role})
	}
	return out, nil
}

// PushRequest is `signet push SOURCE R:T`.
type PushRequest struct {
	Source string // oci:DIR[:REF] or tar:FILE
	Tag    string
	Key    string
	// Progress, when not nil, receives upload progress and is closed when
	// the upload ends; a push that fails before uploading never uses it.
	Progress chan<- v1.Update
}

// Push signs the tag by the digest of the image at Source, uploads the
// image by that digest, publishes the trust data, and only then moves the
// tag. Everything that can fail before the trust data is published (the
// source, the trust data and whether the key may sign the tag, the keys:
// passphrase, PIN, touch) fails before the first upload, and any failure
// before the tag moves leaves every tag of the repository where it was.
// Between the publish and the tag move, verify by tag fails ("tag moved")
// while pull and verify of the signed digest already succeed
// (docs/storage.md).
func Push(ctx context.Context, d *Deps, req PushRequest) (*SignResult, error) {
	tag, err := parseTagRef(req.Tag)
	if err != nil {
		return nil, err
	}
	img, err := d.Registry.OpenImage(req.Source)
	if err != nil {
		return nil, err
	}
	// The upload runs once, after the trust data was verified, the key
	// found allowed to sign the tag and the keys signed, and before the
	// first attempt publishes; a publish that lost a race signs again but
	// does not upload again.
	var uploaded bool
	var uploadErr error
	upload := func(ctx context.Context) error {
		if !uploaded {
			uploadErr = d.Registry.UploadImage(ctx, img, tag.Context(), req.Progress)
			uploaded = uploadErr == nil
		}
		return uploadErr
	}
	desc := img.Descriptor()
	res, err := sign(ctx, d, SignRequest{Tags: []string{req.Tag}, Key: req.Key, Descriptors: map[string]v1.Descriptor{req.Tag: desc}}, upload)
	if uploadErr != nil {
		return nil, uploadErr // names the image and the repository
	}
	if err != nil {
		return nil, err
	}
	if err := d.Registry.TagImage(ctx, img, tag); err != nil {
		return nil, fmt.Errorf("%s is signed as %s, but the tag was not moved (run the same push again): %w", tag, desc.Digest, err)
	}
	return res, nil
}

// hookedStore runs before ahead of every publish of its views.
type hookedStore struct {
	tufmeta.Store
	before func(context.Context) error
}

func (s hookedStore) Load(ctx context.Context) (tufmeta.View, error) {
	v, err := s.Store.Load(ctx)
	if err != nil {
		return nil, err
	}
	return hookedView{View: v, before: s.before}, nil
}

type hookedView struct {
	tufmeta.View
	before func(context.Context) error
}

func (v hookedView) Publish(ctx context.Context, put map[string][]byte, remove []string) error {
	if err := v.before(ctx); err != nil {
		return err
	}
	return v.View.Publish(ctx, put, remove)
}

// prewarmKeys starts unlocking the keystore master key in the background,
// so that its scrypt derivation (about a quarter of a second) runs on
// another core while the command resolves tags and reads the trust data,
// instead of after them. keystore.Store.Prewarm does nothing when no key
// of the keystore is a software key or when the passphrase would need a
// prompt (then the first key asks, as before), and a key needed meanwhile
// waits for it: one derivation either way. The SIGNET_KEY bundle of a CI
// job is opened the same way (signer.Resolver.Prewarm). Their errors are
// dropped: the first key tries again and reports it, from the foreground.
func (d *Deps) prewarmKeys(ctx context.Context) {
	if d.Keystore != nil {
		if ks, err := d.Keystore(); err == nil && ks != nil {
			go func() { _ = ks.Prewarm(ctx) }()
		}
	}
	if d.Resolver != nil {
		if res, err := d.Resolver(); err == nil && res != nil {
			go func() { _ = res.Prewarm(ctx) }()
		}
	}
}

// uploadsPerSign is what a sign publishes: the file of the role that lists
// the tags (targets, a delegation or a bin), the snapshot and the timestamp.
const uploadsPerSign = 3

// prepareUploads opens the upload sessions of the coming publish in the
// background, once the change is known to apply, while the keys unlock
// and sign: the publish then uploads in one round trip, alongside its
// check of the tag (registry.Client.PrepareUploads).
func (d *Deps) prepareUploads(ctx context.Context, repo name.Repository) {
	if tag, err := d.metadataTag(repo); err == nil {
		d.Registry.PrepareUploads(ctx, tag.Context(), uploadsPerSign)
	}
}

// withRepo turns "no trust data" into an actionable message.
func withRepo(err error, repo name.Repository) error {
	var gone *tuf.WithheldError
	if errors.As(err, &gone) {
		return withheld(repo, gone.RootVersion)
	}
	if errors.Is(err, tufmeta.ErrNoRepository) {
		return errkind.Mark(errkind.Input, fmt.Errorf("%s has no trust data: run signet init %s first", repo.Name(), repo.Name()))
	}
	return err
}

// withheld is the error for a repository whose trust data is gone although
// this machine trusts a root of it: deleted, or withheld by the registry.
func withheld(repo name.Repository, rootVersion int64) error {
	return errkind.Mark(errkind.Verification, fmt.Errorf(
		"this machine trusts root version %d of %s; its trust data is gone or withheld by the registry (if the owners deleted it on purpose, signet trust forget %s)",
		rootVersion, repo.Name(), repo.Name()))
}

// resolveParallel bounds how many tags a bulk sign resolves at once.
const resolveParallel = 8

// resolveAll returns what each tag points to now (or was just pushed as),
// asking the registry for several tags at a time: a pipeline that signs
// thousands of tags in one publish waits for round trips in parallel.
func resolveAll(ctx context.Context, reg *registry.Client, tags []name.Tag, req SignRequest) ([]v1.Descriptor, error) {
	descs := make([]v1.Descriptor, len(tags))
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(resolveParallel)
	for i, t := range tags {
		if desc, ok := req.Descriptors[req.Tags[i]]; ok {
			descs[i] = desc
			continue
		}
		g.Go(func() error {
			desc, err := reg.Resolve(ctx, t)
			if err != nil {
				return err // names the tag already
			}
			descs[i] = desc
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return descs, nil
}
