// Command mkimage writes small random container images for demos,
// benchmarks and tests: as an OCI image layout, as a docker-save tarball,
// or pushed straight to a registry tag without any signing (to play the
// attacker who moves a tag).
//
//	mkimage oci DIR        an OCI image layout with one new image
//	mkimage tar FILE REF   a docker-save tarball tagged REF
//	mkimage push REF       push a new image to REF, unsigned
//
// Every image has one random 1 KiB layer, so no two are alike.
package main

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: mkimage oci DIR | tar FILE REF | push REF")
	}
	img, err := image()
	if err != nil {
		return err
	}
	switch args[0] {
	case "oci":
		p, err := layout.Write(args[1], empty.Index)
		if err != nil {
			return err
		}
		return p.AppendImage(img)
	case "tar":
		if len(args) < 3 {
			return fmt.Errorf("usage: mkimage tar FILE REF")
		}
		tag, err := name.NewTag(args[2])
		if err != nil {
			return err
		}
		return tarball.WriteToFile(args[1], tag, img)
	case "push":
		ref, err := name.ParseReference(args[1], name.Insecure)
		if err != nil {
			return err
		}
		return remote.Write(ref, img)
	}
	return fmt.Errorf("unknown mode %q", args[0])
}

// image makes a new one-layer image.
func image() (v1.Image, error) {
	layer, err := random.Layer(1024, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	return img, nil
}
