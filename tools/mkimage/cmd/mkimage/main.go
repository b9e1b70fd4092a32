// Command mkimage writes small random container images for demos,
// benchmarks and tests (package tools/mkimage): as an OCI image layout, as
// a docker-save tarball, or pushed straight to a registry tag without any
// signing (to play the attacker who moves a tag).
//
//	mkimage oci DIR        an OCI image layout with one new image
//	mkimage tar FILE REF   a docker-save tarball tagged REF
//	mkimage push REF       push a new image to REF, unsigned
//
// Every image has one random 1 KiB layer, so no two are alike.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/signet-dev/signet/tools/mkimage"
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
	img, err := mkimage.New()
	if err != nil {
		return err
	}
	switch args[0] {
	case "oci":
		return mkimage.WriteLayout(args[1], img)
	case "tar":
		if len(args) < 3 {
			return fmt.Errorf("usage: mkimage tar FILE REF")
		}
		return mkimage.WriteTarball(args[1], args[2], img)
	case "push":
		return mkimage.Push(context.Background(), args[1], img)
	}
	return fmt.Errorf("unknown mode %q", args[0])
}
