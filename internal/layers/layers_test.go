package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/signet-dev/signet"

// pkg is one package of the module as `go list -json` describes it, its
// paths relative to the module ("" is the module root).
type pkg struct {
	path    string
	imports []string // of the package itself
	tests   []string // of its _test.go files, both test packages
}

// rule is one constraint of docs/design.md §4: no package that from
// selects may reach a package that to selects, through its own imports
// (tests false) or those of its tests too (tests true).
type rule struct {
	name  string
	from  func(p string) bool
	to    func(p string) bool
	tests bool
}

func under(prefix string) func(string) bool {
	return func(p string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
}

func is(paths ...string) func(string) bool {
	return func(p string) bool { return slices.Contains(paths, p) }
}

// testHelper reports whether p is a package for tests only: one with an
// element named *test (registrytest, tuftest, pivsimtest, notarytest, and
// what lies below them) or internal/testenv.
func testHelper(p string) bool {
	if p == "internal/testenv" {
		return true
	}
	return slices.ContainsFunc(strings.Split(p, "/"), func(e string) bool { return strings.HasSuffix(e, "test") })
}

// product reports whether p is part of what signet ships: neither a test
// helper nor a developer tool (tools/), nor this package.
func product(p string) bool {
	return !testHelper(p) && !under("tools")(p) && p != "internal/layers"
}

func not(f func(string) bool) func(string) bool { return func(p string) bool { return !f(p) } }

func and(fs ...func(string) bool) func(string) bool {
	return func(p string) bool {
		for _, f := range fs {
			if !f(p) {
				return false
			}
		}
		return true
	}
}

var rules = []rule{
	{
		name:  "only the front ends (cmd/, admission) may import internal/app, and nothing imports cmd/",
		from:  and(not(under("cmd")), not(is("internal/app")), not(is("admission"))),
		to:    func(p string) bool { return p == "internal/app" || under("cmd")(p) },
		tests: true,
	},
	{
		name: "the verifier (tuf/verify) and tuf/tufmeta import nothing of the writer (tuf)",
		from: func(p string) bool { return under("tuf/verify")(p) || p == "tuf/tufmeta" },
		to:   is("tuf"),
	},
	{
		name: "tuf/tufmeta imports neither side of TUF",
		from: is("tuf/tufmeta"),
		to:   func(p string) bool { return p == "tuf" || under("tuf/verify")(p) },
	},
	{
		name: "the registry client (registry) does not import its server (registry/serve)",
		from: is("registry"),
		to:   under("registry/serve"),
	},
	{
		name: "product packages import no test helper (*test, internal/testenv) and no developer tool (tools/)",
		from: product,
		to:   func(p string) bool { return testHelper(p) || under("tools")(p) },
	},
	{
		name: "tuf knows nothing of registries",
		from: and(product, under("tuf")),
		to:   under("registry"),
	},
	{
		name: "registry knows nothing of TUF",
		from: and(product, under("registry")),
		to:   under("tuf"),
	},
}

// violations returns, for every rule, each package that reaches a
// forbidden one and the chain of imports that gets it there.
func violations(pkgs map[string]*pkg) []string {
	var out []string
	for _, r := range rules {
		for _, p := range sortedKeys(pkgs) {
			if !r.from(p) {
				continue
			}
			first := slices.Clone(pkgs[p].imports)
			if r.tests {
				first = append(first, pkgs[p].tests...)
			}
			for _, chain := range reach(pkgs, p, first, r.to) {
				out = append(out, fmt.Sprintf("%s: %s", r.name, strings.Join(chain, " -> ")))
			}
		}
	}
	return out
}

// reach walks the module's packages from start's first imports (then
// their own imports) and returns a chain to each forbidden package found.
func reach(pkgs map[string]*pkg, start string, first []string, forbidden func(string) bool) [][]string {
	type step struct {
		path  string
		chain []string
	}
	var found [][]string
	seen := map[string]bool{start: true}
	queue := []step{}
	for _, p := range first {
		queue = append(queue, step{p, []string{display(start), display(p)}})
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if seen[s.path] {
			continue
		}
		seen[s.path] = true
		if forbidden(s.path) {
			found = append(found, s.chain)
			continue
		}
		if q, ok := pkgs[s.path]; ok {
			for _, next := range q.imports {
				queue = append(queue, step{next, append(slices.Clone(s.chain), display(next))})
			}
		}
	}
	return found
}

func display(p string) string {
	if p == "" {
		return module
	}
	return p
}

func sortedKeys(m map[string]*pkg) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// listModule runs `go list -json ./...` at the module root and keeps the
// module's own imports of each package.
func listModule(t *testing.T) map[string]*pkg {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "list", "-e", "-json=ImportPath,Imports,TestImports,XTestImports,Error", module+"/...")
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	pkgs := map[string]*pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
			Error                              *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("reading go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		path, ok := own(p.ImportPath)
		if !ok {
			continue
		}
		q := &pkg{path: path}
		for _, i := range p.Imports {
			if rel, ok := own(i); ok {
				q.imports = append(q.imports, rel)
			}
		}
		for _, i := range append(p.TestImports, p.XTestImports...) {
			if rel, ok := own(i); ok && rel != path {
				q.tests = append(q.tests, rel)
			}
		}
		pkgs[path] = q
	}
	return pkgs
}

// own returns the module-relative path of a package of the module.
func own(importPath string) (string, bool) {
	if importPath == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(importPath, module+"/")
	return rel, ok
}

func TestImportsFollowTheLayersOfTheDesign(t *testing.T) {
	pkgs := listModule(t)
	for _, want := range []string{"internal/app", "tuf", "tuf/verify", "tuf/tufmeta", "registry", "registry/serve", "cmd/signet"} {
		if _, ok := pkgs[want]; !ok {
			t.Fatalf("go list did not report %s: the rules below would check nothing", want)
		}
	}
	if v := violations(pkgs); len(v) > 0 {
		t.Fatalf("%d imports cross the layers of docs/design.md §4:\n\t%s", len(v), strings.Join(v, "\n\t"))
	}
}

func TestEveryRuleNamesTheImportThatBreaksIt(t *testing.T) {
	// A module in which every rule is broken once, directly or through
	// another package.
	pkgs := map[string]*pkg{
		"cmd/signet":            {imports: []string{"internal/app"}},
		"internal/app":          {imports: []string{"tuf", "registry"}},
		"signer":                {tests: []string{"internal/app"}},
		"keystore":              {imports: []string{"cmd/signet"}},
		"tuf":                   {imports: []string{"tuf/tufmeta"}},
		"tuf/verify":            {imports: []string{"internal/errkind", "tuf"}},
		"tuf/tufmeta":           {imports: []string{"tuf/verify"}},
		"registry":              {imports: []string{"internal/localfile"}},
		"internal/localfile":    {imports: []string{"registry/serve"}},
		"registry/serve":        {},
		"notary":                {imports: []string{"registry/registrytest"}},
		"piv":                   {imports: []string{"tools/mkimage"}},
		"registry/registrytest": {imports: []string{"registry/serve", "internal/testenv"}},
		"tools/mkimage":         {},
		"registry/serve/x":      {imports: []string{"tuf/tufmeta"}},
		"internal/errkind":      {},
		"internal/testenv":      {},
	}
	got := violations(pkgs)
	want := []string{
		"keystore -> cmd/signet",
		"signer -> internal/app",
		"tuf/tufmeta -> tuf/verify -> tuf",
		"tuf/verify -> tuf",
		"tuf/tufmeta -> tuf/verify",
		"registry -> internal/localfile -> registry/serve",
		"notary -> registry/registrytest",
		"piv -> tools/mkimage",
		"registry/serve/x -> tuf/tufmeta",
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(v string) bool { return strings.HasSuffix(v, ": "+w) }) {
			t.Errorf("no violation %q in:\n\t%s", w, strings.Join(got, "\n\t"))
		}
	}
	for _, v := range got {
		if strings.HasPrefix(v, rules[0].name) && strings.Contains(v, "cmd/signet -> internal/app") {
			t.Errorf("cmd/signet importing internal/app is the design, not a violation: %s", v)
		}
	}
}
