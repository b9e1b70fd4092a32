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
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/signet-dev/signet/internal/errkind"
)

// RefNameAnnotation names a manifest in an OCI layout's index.json.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// source is an image or an index read from a local SOURCE.
type source struct {
	img v1.Image      // or
	ii  v1.ImageIndex // for a multi-platform image
}

var digestSuffix = regexp.MustCompile(`:sha256:[0-9a-f]{64}$`)

// openSource opens SOURCE: "oci:DIR[:REF]" or "tar:FILE".
func openSource(src string) (source, error) {
	if dir, ok := strings.CutPrefix(src, "oci:"); ok {
		return openLayout(dir)
	}
	if file, ok := strings.CutPrefix(src, "tar:"); ok {
		img, err := tarball.ImageFromPath(file, nil)
		if err != nil && strings.Contains(err.Error(), "manifest.json") {
			return source{}, fmt.Errorf("%s is not a docker save tarball (for an OCI layout tarball, extract it and use oci:DIR): %w", file, err)
		}
		if err != nil {
			return source{}, fmt.Errorf("reading %s: %w", file, err)
		}
		return source{img: img}, nil
	}
	return source{}, fmt.Errorf("image source %q: use oci:DIR[:REF] or tar:FILE", src)
}

// openLayout opens "DIR[:REF]": DIR itself when it is a directory, else
// DIR:REF with REF a ref name of index.json or a sha256 digest.
func openLayout(spec string) (source, error) {
	dir, ref := spec, ""
	if st, err := os.Stat(spec); err != nil || !st.IsDir() {
		if loc := digestSuffix.FindStringIndex(spec); loc != nil {
			dir, ref = spec[:loc[0]], spec[loc[0]+1:]
		} else if i := strings.LastIndex(spec, ":"); i > 0 {
			dir, ref = spec[:i], spec[i+1:]
		}
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

// PushImage pushes the image at src to dst and returns the descriptor of
// the manifest it pushed (digest, size, media type): what signet signs.
// src is "oci:DIR[:REF]", an OCI image layout whose index.json names the
// manifest by its org.opencontainers.image.ref.name annotation or digest
// (default: its only manifest), or "tar:FILE", a `docker save` tarball. A
// multi-platform index is pushed as an index. Progress updates go to
// progress when it is not nil; ggcr closes it when the push ends. A bad
// source is errkind.Input; a registry failure errkind.Registry.
func (c *Client) PushImage(ctx context.Context, src string, dst name.Tag, progress chan<- v1.Update) (v1.Descriptor, error) {
	started := false
	d, err := c.pushImage(ctx, src, dst, progress, &started)
	if err != nil && progress != nil && !started {
		close(progress) // ggcr closes it once the push has started
	}
	return d, err
}

func (c *Client) pushImage(ctx context.Context, src string, dst name.Tag, progress chan<- v1.Update, started *bool) (v1.Descriptor, error) {
	s, err := openSource(src)
	if err != nil {
		return v1.Descriptor{}, errkind.Mark(errkind.Input, err)
	}
	d, err := s.descriptor()
	if err != nil {
		return v1.Descriptor{}, errkind.Mark(errkind.Input, fmt.Errorf("reading %s: %w", src, err))
	}
	ref, err := c.ref(dst)
	if err != nil {
		return v1.Descriptor{}, errkind.Mark(errkind.Input, err)
	}
	a, anon, err := c.auth(ctx, dst.Context())
	if err != nil {
		return v1.Descriptor{}, err
	}
	var extra []remote.Option
	if progress != nil {
		extra = append(extra, remote.WithProgress(progress))
	}
	opts := c.remoteOptions(ctx, a, extra...)
	*started = true
	if s.ii != nil {
		err = remote.WriteIndex(ref, s.ii, opts...)
	} else {
		err = remote.Write(ref, s.img, opts...)
	}
	if err != nil {
		return v1.Descriptor{}, fail(fmt.Sprintf("pushing %s to %s", src, dst), dst.Registry, anon, err)
	}
	return d, nil
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
