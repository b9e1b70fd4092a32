package admission

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"sigs.k8s.io/yaml"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/localfile"
)

// Bounds of the files a policy is made of.
const (
	maxPolicyFile = 1 << 20
	maxRootFile   = 1 << 20
)

// Unmatched says what happens to an image that no rule covers.
type Unmatched string

const (
	// Deny refuses images no rule covers (the default).
	Deny Unmatched = "deny"
	// Allow admits images no rule covers, unchecked.
	Allow Unmatched = "allow"
)

// Policy says which root each repository's images must verify against.
// Its file format, in YAML:
//
//	rules:
//	  - repositories: ["registry.example.com/team/*"]
//	    root: roots/team.json
//	unmatched: deny
//
// Unknown fields are errors. The first rule with a glob that matches an
// image's repository (REGISTRY/PATH, path.Match) covers it; unmatched is
// "deny" (the default) or "allow".
type Policy struct {
	Rules     []Rule    `json:"rules"`
	Unmatched Unmatched `json:"unmatched,omitempty"`
}

// Rule pins Root for the repositories matching one of its globs.
type Rule struct {
	Repositories []string `json:"repositories"`
	// Root is the root.json file; a relative path is relative to the
	// policy file. LoadPolicy makes it absolute, reads and checks it.
	Root string `json:"root"`

	root []byte // Root's content, as LoadPolicy read it
}

// LoadPolicy reads and checks the policy file: strict YAML, at least one
// rule, valid globs, and every root a readable TUF root.json. Errors are
// marked errkind.Input.
func LoadPolicy(file string) (*Policy, error) {
	data, err := localfile.Read(file, maxPolicyFile)
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("policy: %w", err))
	}
	p, err := ParsePolicy(data, filepath.Dir(file))
	if err != nil {
		return nil, errkind.Mark(errkind.Input, fmt.Errorf("policy %s: %w", file, err))
	}
	return p, nil
}

// ParsePolicy parses a policy whose relative root paths are relative to
// dir, and checks it as LoadPolicy does.
func ParsePolicy(data []byte, dir string) (*Policy, error) {
	var p Policy
	err := yaml.UnmarshalStrict(data, &p)
	if err != nil {
		return nil, err
	}
	switch p.Unmatched {
	case "":
		p.Unmatched = Deny
	case Allow, Deny:
	default:
		return nil, fmt.Errorf("unmatched: %q, want allow or deny", p.Unmatched)
	}
	if len(p.Rules) == 0 {
		return nil, errors.New("no rules: a policy pins at least one root")
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		if len(r.Repositories) == 0 {
			return nil, fmt.Errorf("rule %d: no repositories", i+1)
		}
		for j, g := range r.Repositories {
			if _, err := path.Match(g, ""); err != nil || g == "" {
				return nil, fmt.Errorf("rule %d: repository glob %q: bad pattern", i+1, g)
			}
			r.Repositories[j] = canonicalRepository(g)
		}
		if r.Root == "" {
			return nil, fmt.Errorf("rule %d: no root", i+1)
		}
		if !filepath.IsAbs(r.Root) {
			r.Root = filepath.Join(dir, r.Root)
		}
		if r.root, err = readRoot(r.Root); err != nil {
			return nil, fmt.Errorf("rule %d: %w", i+1, err)
		}
	}
	return &p, nil
}

// readRoot reads a rule's root.json and checks that it is root metadata.
func readRoot(file string) ([]byte, error) {
	data, err := localfile.Read(file, maxRootFile)
	if err != nil {
		return nil, err
	}
	if _, err := metadata.Root().FromBytes(bytes.Clone(data)); err != nil {
		return nil, fmt.Errorf("root %s is not a TUF root.json", file)
	}
	return data, nil
}

// readRule returns the root.json of the rule whose Root is path, as the
// policy was read: roots change with a restart, as the rules do.
func (p *Policy) readRule(path string) ([]byte, error) {
	for _, r := range p.Rules {
		if r.Root == path && r.root != nil {
			return bytes.Clone(r.root), nil
		}
	}
	return nil, errkind.Mark(errkind.Input, fmt.Errorf("root %s was not read with the policy", path))
}

// Match returns the first rule covering repository (REGISTRY/PATH), or
// nil when none does. Globs and repository are compared in one spelling
// (canonicalRepository), so that an image cannot leave its rule by naming
// the same registry otherwise.
func (p *Policy) Match(repository string) *Rule {
	repository = canonicalRepository(repository)
	for i := range p.Rules {
		for _, g := range p.Rules[i].Repositories {
			if ok, _ := path.Match(g, repository); ok {
				return &p.Rules[i]
			}
		}
	}
	return nil
}

// canonicalRepository spells REGISTRY/PATH the way a node reaches it: the
// registry host in lower case (host names are case-insensitive), without
// the HTTPS default port :443, and Docker Hub as index.docker.io, the name
// go-containerregistry gives docker.io.
func canonicalRepository(s string) string {
	host, rest, ok := strings.Cut(s, "/")
	if !ok {
		return s
	}
	host = strings.TrimSuffix(strings.ToLower(host), ":443")
	if host == "docker.io" || host == "registry-1.docker.io" {
		host = "index.docker.io"
	}
	return host + "/" + rest
}
