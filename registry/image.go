package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
)

// RefNameAnnotation names a manifest in an OCI layout's index.json.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// source is an image or an index read from a local SOURCE.
type source struct {
	img v1.Image      // or
	ii  v1.ImageIndex // for a multi-platform image
}

var digestSuffix = regexp.MustCompile(`:sha256:[0-9a-f]{64}$`)

// openSource opens SOURCE: "oci:DIR[:REF]" or "tar:FILE". The JSON files
// read whole (a layout's index.json and the manifest chosen, a tarball's
// manifest.json and configs) are bounded by limit.
func openSource(src string, limit int64) (source, error) {
	if dir, ok := strings.CutPrefix(src, "oci:"); ok {
		return openLayout(dir, limit)
	}
	if file, ok := strings.CutPrefix(src, "tar:"); ok {
		img, err := openTarball(file, limit)
		switch {
		case err == nil:
			return source{img: img}, nil
		case errors.Is(err, ErrTooLarge), errors.Is(err, localfile.ErrNotRegular), errors.Is(err, fs.ErrNotExist):
			return source{}, err // they name the file
		case strings.Contains(err.Error(), "manifest.json"):
			return source{}, fmt.Errorf("%s is not a docker save tarball (for an OCI layout tarball, extract it and use oci:DIR): %w", file, err)
		}
		return source{}, fmt.Errorf("reading %s: %w", file, err)
	}
	return source{}, fmt.Errorf("image source %q: use oci:DIR[:REF] or tar:FILE", src)
}

// openLayout opens "DIR[:REF]": DIR itself when it is a directory, else
// DIR:REF with REF a ref name of index.json or a sha256 digest.
func openLayout(spec string, limit int64) (source, error) {
	dir, ref := spec, ""
	if st, err := os.Stat(spec); err != nil || !st.IsDir() {
		if loc := digestSuffix.FindStringIndex(spec); loc != nil {
			dir, ref = spec[:loc[0]], spec[loc[0]+1:]
		} else if i := strings.LastIndex(spec, ":"); i > 0 {
			dir, ref = spec[:i], spec[i+1:]
		}
	}
	if err := checkLayoutFile(dir, "index.json", limit); err != nil {
		return source{}, err
	}
	ii, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return source{}, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return source{}, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	var found []v1.Descriptor
	for _, d := range im.Manifests {
		if ref == "" || d.Annotations[RefNameAnnotation] == ref || d.Digest.String() == ref {
			found = append(found, d)
		}
	}
	switch {
	case len(found) == 0 && ref != "":
		return source{}, fmt.Errorf("OCI layout %s has no manifest named %q", dir, ref)
	case len(found) == 0:
		return source{}, fmt.Errorf("OCI layout %s is empty", dir)
	case len(found) > 1 && ref == "":
		return source{}, fmt.Errorf("OCI layout %s has %d manifests: choose one with oci:%s:REF", dir, len(found), dir)
	case len(found) > 1 && found[0].Digest != found[1].Digest:
		return source{}, fmt.Errorf("OCI layout %s has %d manifests named %q", dir, len(found), ref)
	}
	d := found[0]
	if d.Digest.Algorithm == "sha256" {
		if err := checkLayoutFile(dir, filepath.Join("blobs", "sha256", d.Digest.Hex), limit); err != nil {
			return source{}, err
		}
	}
	switch {
	case d.MediaType.IsIndex():
		child, err := ii.ImageIndex(d.Digest)
		if err != nil {
			return source{}, fmt.Errorf("reading OCI layout %s: %w", dir, err)
		}
		return source{ii: child}, nil
	case d.MediaType.IsImage():
		img, err := ii.Image(d.Digest)
		if err != nil {
			return source{}, fmt.Errorf("reading OCI layout %s: %w", dir, err)
		}
		return source{img: img}, nil
	}
	return source{}, fmt.Errorf("OCI layout %s: %s has media type %q, not an image or an index", dir, d.Digest, d.MediaType)
}

// checkLayoutFile refuses file of the OCI layout dir when it is not a
// regular file or is larger than limit: ggcr reads it whole. A missing
// file is left for ggcr to report.
func checkLayoutFile(dir, file string, limit int64) error {
	f, err := localfile.Open(filepath.Join(dir, file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return errkind.Mark(errkind.Input, fmt.Errorf("%w: %s in OCI layout %s is %d bytes, more than the limit of %d", ErrTooLarge, file, dir, st.Size(), limit))
	}
	return nil
}

// descriptor describes what s pushes: its manifest's digest, size and
// media type. Reading it checks the local source.
func (s source) descriptor() (v1.Descriptor, error) {
	var d v1.Descriptor
	var err error
	if s.ii != nil {
		d.MediaType, err = s.ii.MediaType()
		if err == nil {
			d.Digest, err = s.ii.Digest()
		}
		if err == nil {
			d.Size, err = s.ii.Size()
		}
		return d, err
	}
	d.MediaType, err = s.img.MediaType()
	if err == nil {
		d.Digest, err = s.img.Digest()
	}
	if err == nil {
		d.Size, err = s.img.Size()
	}
	return d, err
}

// Image is a local image ready to push: an image or a multi-platform
// index read from a SOURCE, with the descriptor of its manifest.
type Image struct {
	src  string
	s    source
	desc v1.Descriptor
}

// OpenImage reads src without touching the network, reading whole no JSON
// larger than the client's manifest bound: "oci:DIR[:REF]", an
// OCI image layout whose index.json names the manifest by its
// org.opencontainers.image.ref.name annotation or digest (default: its
// only manifest), or "tar:FILE", a `docker save` tarball. A multi-platform
// index is pushed as an index. A bad source is errkind.Input.
func (c *Client) OpenImage(src string) (*Image, error) {
	s, err := openSource(src, c.opts.maxManifest)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, err)
	}
	d, err := s.descriptor()
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("reading %s: %w", src, err))
	}
	return &Image{src: src, s: s, desc: d}, nil
}

// Descriptor describes the image's manifest (digest, size, media type):
// what signet signs.
func (i *Image) Descriptor() v1.Descriptor { return i.desc }

// PushImage pushes the image at src (see OpenImage) to dst: UploadImage,
// then TagImage. It returns the descriptor of the manifest it pushed.
func (c *Client) PushImage(ctx context.Context, src string, dst name.Tag, progress chan<- v1.Update) (v1.Descriptor, error) {
	img, err := c.OpenImage(src)
	if err != nil {
		if progress != nil {
			close(progress)
		}
		return v1.Descriptor{}, err
	}
	if err := c.UploadImage(ctx, img, dst.Context(), progress); err != nil {
		return v1.Descriptor{}, err
	}
	if err := c.TagImage(ctx, img, dst); err != nil {
		return v1.Descriptor{}, err
	}
	return img.desc, nil
}

// UploadImage uploads img's blobs and manifest into repo, the manifest by
// its digest: no tag of repo moves. Progress updates go to progress when
// it is not nil, and progress is closed when the upload ends. A registry
// failure is errkind.Registry.
func (c *Client) UploadImage(ctx context.Context, img *Image, repo name.Repository, progress chan<- v1.Update) error {
	started := false
	err := c.uploadImage(ctx, img, repo, progress, &started)
	if err != nil && progress != nil && !started {
		close(progress) // ggcr closes it once the upload has started
	}
	return err
}

func (c *Client) uploadImage(ctx context.Context, img *Image, repo name.Repository, progress chan<- v1.Update, started *bool) error {
	what := fmt.Sprintf("pushing %s to %s", img.src, repo)
	ref, err := c.ref(repo.Digest(img.desc.Digest.String()))
	if err != nil {
		return errkind.Mark(errkind.Input, err)
	}
	a, anon, err := c.auth(ctx, repo)
	if err != nil {
		return err
	}
	var extra []remote.Option
	if progress != nil {
		extra = append(extra, remote.WithProgress(progress))
	}
	opts := c.remoteOptions(ctx, a, extra...)
	*started = true
	if img.s.ii != nil {
		err = remote.WriteIndex(ref, img.s.ii, opts...)
	} else {
		err = remote.Write(ref, img.s.img, opts...)
	}
	if err != nil {
		return fail(what, repo.Registry, anon, err)
	}
	return nil
}

// TagImage points dst at img's manifest: one manifest PUT of the same
// bytes that UploadImage put by digest into dst's repository.
func (c *Client) TagImage(ctx context.Context, img *Image, dst name.Tag) error {
	ref, err := c.ref(dst)
	if err != nil {
		return errkind.Mark(errkind.Input, err)
	}
	a, anon, err := c.auth(ctx, dst.Context())
	if err != nil {
		return err
	}
	var t remote.Taggable = img.s.img
	if img.s.ii != nil {
		t = img.s.ii
	}
	if err := remote.Put(ref, t, c.remoteOptions(ctx, a)...); err != nil {
		return fail(fmt.Sprintf("moving %s to %s", dst, img.desc.Digest), dst.Registry, anon, err)
	}
	return nil
}

// PullOption configures PullImage.
type PullOption func(*pullOptions)

type pullOptions struct{ refName string }

// WithRefName gives the pulled manifest's entry in index.json the
// annotation org.opencontainers.image.ref.name = refName (a tag, so that
// oci:DIR:TAG selects it), replacing the entry that had it: pulling the
// same tag again leaves one entry. Without it, the entry has no ref name
// and a pull of the same digest again still leaves one entry.
func WithRefName(refName string) PullOption {
	return func(o *pullOptions) { o.refName = refName }
}

// PullImage pulls the manifest ref (an image or a multi-platform index)
// and everything it references into the OCI image layout dstOCIDir,
// creating it or adding to it, with files 0644 and directories 0755 (as
// crane and skopeo leave them). Every blob is checked against its digest.
func (c *Client) PullImage(ctx context.Context, ref name.Digest, dstOCIDir string, opts ...PullOption) error {
	var po pullOptions
	for _, o := range opts {
		o(&po)
	}
	what := fmt.Sprintf("pulling %s", ref)
	r, err := c.ref(ref)
	if err != nil {
		return errkind.Mark(errkind.Input, err)
	}
	a, anon, err := c.auth(ctx, ref.Context())
	if err != nil {
		return err
	}
	desc, err := remote.Get(r, c.remoteOptions(ctx, a)...)
	if isNotFound(err) {
		return errkind.Mark(errkind.Input, fmt.Errorf("%s: %w", what, ErrNotFound))
	}
	if err != nil {
		return fail(what, ref.Registry, anon, err)
	}
	p, err := openOrCreateLayout(dstOCIDir)
	if err != nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("%s: %w", what, err))
	}
	// One entry per image: the one with the same ref name goes (a tag
	// pulled again, perhaps to a new digest), and so does an entry of the
	// same digest without one.
	matcher := func(d v1.Descriptor) bool {
		if po.refName != "" && d.Annotations[RefNameAnnotation] == po.refName {
			return true
		}
		return d.Digest == desc.Digest && d.Annotations[RefNameAnnotation] == po.refName
	}
	var lopts []layout.Option
	if po.refName != "" {
		lopts = append(lopts, layout.WithAnnotations(map[string]string{RefNameAnnotation: po.refName}))
	}
	switch {
	case desc.MediaType.IsIndex():
		ii, ierr := desc.ImageIndex()
		if ierr == nil {
			ierr = p.ReplaceIndex(ii, matcher, lopts...)
		}
		err = ierr
	case desc.MediaType.IsImage():
		img, ierr := desc.Image()
		if ierr == nil {
			ierr = p.ReplaceImage(img, matcher, lopts...)
		}
		err = ierr
	default:
		return errkind.Mark(errkind.Input, fmt.Errorf("%s: media type %q is not an image or an index", what, desc.MediaType))
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return errkind.Mark(errkind.Input, fmt.Errorf("%s into %s: %w", what, dstOCIDir, err))
		}
		return fail(what, ref.Registry, anon, err)
	}
	if err := layoutModes(dstOCIDir); err != nil {
		return errkind.Mark(errkind.Input, fmt.Errorf("%s into %s: %w", what, dstOCIDir, err))
	}
	return nil
}

// layoutModes gives an OCI layout's files mode 0644 and its directories
// 0755: ggcr's layout writes them 0777 less the umask, executable files.
func layoutModes(dir string) error {
	return filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case e.IsDir():
			return os.Chmod(path, 0o755)
		case e.Type().IsRegular():
			return os.Chmod(path, 0o644)
		}
		return nil
	})
}

func openOrCreateLayout(dir string) (layout.Path, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return layout.FromPath(dir)
	}
	return layout.Write(dir, empty.Index)
}
