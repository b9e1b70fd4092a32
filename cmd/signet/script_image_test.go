package main

import (
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdMkimage makes a new random image for scripts:
//
//	mkimage oci DIR        an OCI image layout
//	mkimage tar FILE       a docker-save tarball
//	mkimage push REF       pushed straight to REF, unsigned (the attacker)
func cmdMkimage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkimage oci DIR | tar FILE | push REF")
	}
	img, err := random.Image(512, 1)
	ts.Check(err)
	switch args[0] {
	case "oci":
		p, err := layout.Write(ts.MkAbs(args[1]), empty.Index)
		ts.Check(err)
		ts.Check(p.AppendImage(img))
	case "tar":
		tag, err := name.NewTag("example.com/app:latest")
		ts.Check(err)
		ts.Check(tarball.WriteToFile(ts.MkAbs(args[1]), tag, img))
	case "push":
		ref, err := name.ParseReference(args[1], name.Insecure)
		ts.Check(err)
		ts.Check(remote.Write(ref, img))
	default:
		ts.Fatalf("mkimage: unknown kind %q", args[0])
	}
}
