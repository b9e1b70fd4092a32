// Package mkimage makes small random container images for demos,
// benchmarks and tests, and writes them as an OCI image layout or a
// docker-save tarball, or pushes them to a tag without any signing (to play
// the attacker who moves a tag). Command mkimage (tools/mkimage/cmd/mkimage,
// run by scripts/demo.sh), the mkimage command of cmd/signet's test scripts
// and the benchmarks use it.
package mkimage

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// New returns a new image of one random 1 KiB layer, so no two are alike.
func New() (v1.Image, error) {
	layer, err := random.Layer(1024, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(empty.Image, layer)
}

// WriteLayout writes img as a new OCI image layout at dir.
func WriteLayout(dir string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img)
}

// WriteTarball writes img as a docker-save tarball at file, tagged ref.
func WriteTarball(file, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(file, tag, img)
}

// Push pushes img to ref, over plain HTTP when the registry has no TLS,
// without signing it.
func Push(ctx context.Context, ref string, img v1.Image) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	return remote.Write(r, img, remote.WithContext(ctx))
}
