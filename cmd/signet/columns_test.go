package main

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/signet-dev/signet/registry"
)

// tableRows says where the rows of one text table are in the -o json
// document: the array at path, or, with mapKey set, the values of the
// object at path, whose keys the column named mapKey shows.
type tableRows struct {
	path   string
	mapKey string
}

// The text tables of inspect, status and trust show name their columns
// with the JSON fields of -o json (case, spaces and underscores aside), so
// that the two cannot drift apart again (docs/usage.md, JSON output).
func TestTextColumnsAreTheJSONFieldNames(t *testing.T) {
	h, err := registry.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"
	ref, err := name.ParseReference(repo+":v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SIGNET_HOME": filepath.Join(t.TempDir(), "home"), "SIGNET_PASSPHRASE": testPassphrase}
	for _, args := range [][]string{
		{"key", "generate", "owner"},
		// An expiring timestamp makes status show its advice column.
		{"init", repo, "--root-key", "owner", "--targets-key", "owner", "--expires", "timestamp=1h"},
		{"delegate", "add", repo, "ci", "--key", "owner", "--paths", "v*"},
		{"sign", repo + ":v1"},
	} {
		if r := runSignet(t, env, args...); r.code != 0 {
			t.Fatalf("signet %s: exit %d: %s", strings.Join(args, " "), r.code, r.errOut)
		}
	}
	for _, c := range []struct {
		args   []string
		tables []tableRows
	}{
		{[]string{"inspect", repo}, []tableRows{{path: "targets"}, {path: "roles"}}},
		{[]string{"status", repo}, []tableRows{{path: "roles"}}},
		{[]string{"trust", "show", repo}, []tableRows{{path: "roles", mapKey: "role"}}},
	} {
		t.Run(c.args[0], func(t *testing.T) {
			text := runSignet(t, env, c.args...)
			js := runSignet(t, env, append(c.args, "-o", "json")...)
			if text.code != 0 || js.code != 0 {
				t.Fatalf("exit %d and %d: %s %s", text.code, js.code, text.errOut, js.errOut)
			}
			headers := tableHeaders(text.out)
			if len(headers) != len(c.tables) {
				t.Fatalf("%d tables in the text output, want %d:\n%s", len(headers), len(c.tables), text.out)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(js.out), &doc); err != nil {
				t.Fatal(err)
			}
			for i, spec := range c.tables {
				fields := rowFields(t, doc, spec)
				for _, col := range headers[i] {
					if !fields[fieldKey(col)] {
						t.Errorf("column %s of table %d has no JSON field of that name in %s[] (fields: %v)", col, i+1, spec.path, fields)
					}
				}
			}
		})
	}
}

var headerLine = regexp.MustCompile(`^[A-Z][A-Z0-9_ ]*$`)

// tableHeaders returns the columns of each table header in out: lines in
// capitals only, split where the table puts two spaces or more.
func tableHeaders(out string) [][]string {
	var headers [][]string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, " ")
		if headerLine.MatchString(line) {
			headers = append(headers, regexp.MustCompile(` {2,}`).Split(line, -1))
		}
	}
	return headers
}

// rowFields returns the field names of every row spec names in doc, as
// fieldKey spells them.
func rowFields(t *testing.T, doc map[string]any, spec tableRows) map[string]bool {
	t.Helper()
	var rows []any
	switch v := doc[spec.path].(type) {
	case []any:
		rows = v
	case map[string]any:
		for _, r := range v {
			rows = append(rows, r)
		}
	default:
		t.Fatalf("JSON field %s is %T, want rows", spec.path, doc[spec.path])
	}
	fields := map[string]bool{}
	if spec.mapKey != "" {
		fields[fieldKey(spec.mapKey)] = true
	}
	for _, r := range rows {
		obj, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("a row of %s is %T, want an object", spec.path, r)
		}
		for k := range obj {
			fields[fieldKey(k)] = true
		}
	}
	return fields
}

// fieldKey is a column or field name without case, spaces or underscores.
func fieldKey(s string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "_", "").Replace(s))
}
