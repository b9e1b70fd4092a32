// Command notarygen writes the trust data of a Notary v1 repository, made
// by the notary Go library itself (v0.7.0), in the layout a Notary server
// serves it: OUT/root.json, OUT/timestamp.json, OUT/snapshot.json,
// OUT/targets.json and OUT/targets/NAME.json for each delegation, plus
// OUT/root.crt, the PEM certificate of the root key (for --root-cert).
//
// It exists because a notary-server built with a current Go refuses to
// publish delegated roles, so signet's tests of `targets/releases` need
// metadata made another way. It lives in its own module so that signet's
// go.mod never depends on the archived notary project.
//
//	go run . -gun GUN -out DIR [-sign ROLE:TAG=SHA256HEX:SIZE]...
//
// ROLE is targets or a delegation such as targets/releases; every
// delegation named is created with its own ECDSA key and the path prefix
// "" (every tag), as `docker trust signer add` does.
package main

import (
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/theupdateframework/notary/tuf/data"
	"github.com/theupdateframework/notary/tuf/testutils"
)

type signFlags []string

func (s *signFlags) String() string     { return strings.Join(*s, ",") }
func (s *signFlags) Set(v string) error { *s = append(*s, v); return nil }

type entry struct {
	role data.RoleName
	tag  string
	meta data.FileMeta
}

func parseEntry(s string) (entry, error) {
	role, rest, ok := strings.Cut(s, ":")
	if !ok {
		return entry{}, fmt.Errorf("%q: want ROLE:TAG=SHA256HEX:SIZE", s)
	}
	tag, rest, ok := strings.Cut(rest, "=")
	if !ok {
		return entry{}, fmt.Errorf("%q: want ROLE:TAG=SHA256HEX:SIZE", s)
	}
	hexHash, sizeStr, ok := strings.Cut(rest, ":")
	if !ok {
		return entry{}, fmt.Errorf("%q: want ROLE:TAG=SHA256HEX:SIZE", s)
	}
	sum, err := hex.DecodeString(hexHash)
	if err != nil || len(sum) != 32 {
		return entry{}, fmt.Errorf("%q: bad sha256", s)
	}
	size, err := strconv.ParseInt(sizeStr, 10, 64)
	if err != nil {
		return entry{}, fmt.Errorf("%q: bad size", s)
	}
	return entry{role: data.RoleName(role), tag: tag, meta: data.FileMeta{Length: size, Hashes: data.Hashes{"sha256": sum}}}, nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "notarygen:", err)
		os.Exit(1)
	}
}

func run() error {
	gun := flag.String("gun", "", "globally unique name of the repository")
	out := flag.String("out", "", "output directory")
	var signs signFlags
	flag.Var(&signs, "sign", "ROLE:TAG=SHA256HEX:SIZE (repeatable)")
	flag.Parse()
	if *gun == "" || *out == "" {
		return fmt.Errorf("-gun and -out are required")
	}
	var entries []entry
	var delegations []data.RoleName
	seen := map[data.RoleName]bool{}
	for _, s := range signs {
		e, err := parseEntry(s)
		if err != nil {
			return err
		}
		entries = append(entries, e)
		if e.role != data.CanonicalTargetsRole && !seen[e.role] {
			seen[e.role] = true
			delegations = append(delegations, e.role)
		}
	}

	repo, _, err := testutils.EmptyRepo(data.GUN(*gun), delegations...)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := repo.AddTargets(e.role, data.Files{e.tag: e.meta}); err != nil {
			return fmt.Errorf("adding %s to %s: %w", e.tag, e.role, err)
		}
	}
	meta, err := testutils.SignAndSerialize(repo)
	if err != nil {
		return err
	}
	for role, b := range meta {
		path := filepath.Join(*out, filepath.FromSlash(role.String())+".json")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
	}
	root, err := repo.GetBaseRole(data.CanonicalRootRole)
	if err != nil {
		return err
	}
	for _, k := range root.ListKeys() {
		if b, _ := pem.Decode(k.Public()); b != nil {
			return os.WriteFile(filepath.Join(*out, "root.crt"), k.Public(), 0o644)
		}
	}
	return fmt.Errorf("the root key has no certificate")
}
