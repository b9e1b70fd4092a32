package release

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Source is the repository the image's source label names.
const Source = "https://github.com/signet-dev/signet"

// ImageTargets are the platforms of the image: the static Linux builds.
var ImageTargets = []Target{{OS: "linux", Arch: "amd64"}, {OS: "linux", Arch: "arm64"}}

// Image paths: the binary at /signet (the entrypoint) and the CA
// certificates where Go's crypto/x509 looks for them on Linux.
const (
	ImageEntrypoint = "/signet"
	imageCACerts    = "etc/ssl/certs/ca-certificates.crt"
)

// WriteImage writes an OCI image layout at dir (replacing it) holding one
// multi-platform image, tagged info.Version (annotation
// org.opencontainers.image.ref.name): for each of ImageTargets, one layer
// with the static signet from BinDir(dist, target) at /signet and the PEM
// bundle caCerts, entrypoint /signet, and the OCI labels source, version,
// revision, created, title and licenses.
func WriteImage(dir, dist, caCerts string, info Info) error {
	certs, err := os.ReadFile(caCerts)
	if err != nil {
		return fmt.Errorf("reading CA certificates: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, t := range ImageTargets {
		bin, err := os.ReadFile(filepath.Join(BinDir(dist, t), t.Exe()))
		if err != nil {
			return fmt.Errorf("the %s build (make dist first): %w", t.Name(), err)
		}
		img, err := platformImage(t, bin, certs, info)
		if err != nil {
			return fmt.Errorf("image for %s: %w", t.Name(), err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: t.OS, Architecture: t.Arch}}})
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": info.Version}))
}

func platformImage(t Target, bin, certs []byte, info Info) (v1.Image, error) {
	var tarData bytes.Buffer
	files := []file{{name: ImageEntrypoint[1:], mode: 0o755, data: bin}, {name: imageCACerts, mode: 0o644, data: certs}}
	if err := writeTar(&tarData, files, info.Time); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarData.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: info.Time}, CreatedBy: "signet make image"}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = t.OS, t.Arch
	cf.Created = v1.Time{Time: info.Time}
	cf.Config.Entrypoint = []string{ImageEntrypoint}
	cf.Config.Env = []string{"PATH=/", "SSL_CERT_FILE=/" + imageCACerts}
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.version":  info.Version,
		"org.opencontainers.image.revision": info.Revision,
		"org.opencontainers.image.created":  info.Time.Format("2006-01-02T15:04:05Z"),
		"org.opencontainers.image.title":    "signet",
		"org.opencontainers.image.licenses": "Apache-2.0",
	}
	return mutate.ConfigFile(img, cf)
}
