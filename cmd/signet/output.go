package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/signet-dev/signet/internal/errkind"
)

// Output formats of -o/--output.
const (
	outputText = "text"
	outputJSON = "json"
)

// parseOutput validates the value of -o/--output.
func parseOutput(s string) (string, error) {
	switch s {
	case outputText, outputJSON:
		return s, nil
	}
	return "", errkind.Mark(errkind.Input, fmt.Errorf("invalid --output %q: want text or json", s))
}

// writeJSON prints v as one indented JSON document followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing json: %w", err)
	}
	return nil
}

// table collects rows and prints them aligned in columns. A table with no
// rows prints nothing, not even its header.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

// Row adds one row; cells are printed as given.
func (t *table) Row(cells ...string) { t.rows = append(t.rows, cells) }

// Len returns the number of rows.
func (t *table) Len() int { return len(t.rows) }

// Write prints the header and the rows.
func (t *table) Write(w io.Writer) error {
	if len(t.rows) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	return nil
}

// colors decides whether text output gets ANSI colour: only when stdout is
// a terminal and NO_COLOR is unset (https://no-color.org).
type colors struct{ on bool }

func newColors(ios *iostreams, env func(string) string) colors {
	return colors{on: ios.OutTTY && env("NO_COLOR") == ""}
}

func (c colors) wrap(code, s string) string {
	if !c.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Green, Yellow, Red and Bold colour s when colour is on.
func (c colors) Green(s string) string  { return c.wrap("32", s) }
func (c colors) Yellow(s string) string { return c.wrap("33", s) }
func (c colors) Red(s string) string    { return c.wrap("31", s) }
func (c colors) Bold(s string) string   { return c.wrap("1", s) }

// notice prints one status line on stderr: "signet: msg".
func notice(ios *iostreams, format string, args ...any) {
	fmt.Fprintf(ios.ErrOut, "signet: "+format+"\n", args...)
}
