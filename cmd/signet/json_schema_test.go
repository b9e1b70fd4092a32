package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/app"
)

var updateJSONSchema = flag.Bool("update-json-schema", false, "rewrite testdata/json_schema.golden")

// jsonOutputs are the values `-o json` prints, one per command result.
func jsonOutputs() map[string]any {
	return map[string]any{
		"ceremony publish": app.CeremonyPublishResult{},
		"ceremony status":  app.CeremonyStatus{},
		"delegate add":     app.DelegateResult{},
		"delegate list":    app.DelegateListResult{},
		"import notary":    app.ImportResult{},
		"init":             app.InitResult{},
		"inspect":          app.InspectResult{},
		"key export":       []app.ExportedKey{},
		"key generate":     app.KeyResult{},
		"key list":         []app.KeyListEntry{},
		"rotate":           app.RotateResult{},
		"sign":             app.SignResult{},
		"status":           app.StatusResult{},
		"trust show":       app.RootSummary{},
		"verify":           app.VerifyResult{},
		"version":          versionInfo{},
		"yubikey attest":   app.YubikeyAttestResult{},
		"yubikey info":     app.YubikeyInfo{},
		"yubikey list":     []app.YubikeyListEntry{},
		"yubikey setup":    app.YubikeySetupResult{},
	}
}

// TestJSONOutputFieldsStayTheSame fails when a field of any `-o json`
// output is renamed, removed or added: scripts read these names
// (docs/usage.md, "JSON output"). Run with -update-json-schema after a
// deliberate change, and update docs/usage.md with it.
func TestJSONOutputFieldsStayTheSame(t *testing.T) {
	var lines []string
	for cmd, v := range jsonOutputs() {
		for _, p := range jsonPaths(t, v) {
			lines = append(lines, cmd+": "+p)
		}
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "json_schema.golden")
	if *updateJSONSchema {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("-o json fields changed (docs/usage.md is the contract); got:\n%s", got)
	}
}

// jsonPaths fills every field of v and returns the paths of the JSON
// object keys it marshals to ("roles.*.keys[].keyid").
func jsonPaths(t *testing.T, v any) []string {
	t.Helper()
	rv := reflect.New(reflect.TypeOf(v)).Elem()
	fill(rv, 0)
	data, err := json.Marshal(rv.Interface())
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	walkJSON(doc, "", &out)
	return out
}

// fill sets every field reachable from v to a value that is not zero, so
// that omitempty fields show up.
func fill(v reflect.Value, depth int) {
	if depth > 8 {
		return
	}
	if v.Type() == reflect.TypeOf(time.Time{}) {
		v.Set(reflect.ValueOf(time.Unix(1, 0).UTC()))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), depth+1)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fill(k, depth+1)
		e := reflect.New(v.Type().Elem()).Elem()
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}

func walkJSON(doc any, prefix string, out *[]string) {
	switch d := doc.(type) {
	case map[string]any:
		for k, v := range d {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			*out = append(*out, fmt.Sprintf("%s (%s)", p, jsonType(v)))
			walkJSON(v, p, out)
		}
	case []any:
		for _, v := range d {
			walkJSON(v, prefix+"[]", out)
		}
	}
}

func jsonType(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}
