package main

import (
	"context"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/signet-dev/signet/tools/mkimage"
)

// cmdMkimage makes a new random image for scripts (package tools/mkimage):
//
//	mkimage oci DIR        an OCI image layout
//	mkimage tar FILE       a docker-save tarball
//	mkimage push REF       pushed straight to REF, unsigned (the attacker)
func cmdMkimage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkimage oci DIR | tar FILE | push REF")
	}
	img, err := mkimage.New()
	ts.Check(err)
	switch args[0] {
	case "oci":
		ts.Check(mkimage.WriteLayout(ts.MkAbs(args[1]), img))
	case "tar":
		ts.Check(mkimage.WriteTarball(ts.MkAbs(args[1]), "example.com/app:latest", img))
	case "push":
		ts.Check(mkimage.Push(context.Background(), args[1], img))
	default:
		ts.Fatalf("mkimage: unknown kind %q", args[0])
	}
}
