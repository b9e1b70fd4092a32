package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/signet-dev/signet/internal/errkind"
	"github.com/signet-dev/signet/internal/textesc"
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
// No control character reaches the output raw: encoding/json escapes C0
// and textesc.JSON the DEL and C1 it leaves.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing json: %w", err)
	}
	if _, err := w.Write(textesc.JSON(buf.Bytes())); err != nil {
		return fmt.Errorf("writing json: %w", err)
	}
	return nil
}

// fprintf is fmt.Fprintf for lines that show data from outside: every
// string, Stringer and error argument is escaped (textesc.String), so a
// name from a registry or metadata cannot drive the terminal. The format
// is signet's own and printed as it is.
func fprintf(w io.Writer, format string, args ...any) (int, error) {
	return fmt.Fprintf(w, format, escapeArgs(args)...)
}

// escapeArgs returns args with strings, []string, Stringers and errors
// replaced by their escaped text; numbers and the rest are kept.
func escapeArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = textesc.String(v)
		case []string:
			e := make([]string, len(v))
			for j, s := range v {
				e[j] = textesc.String(s)
			}
			out[i] = e
		case error:
			out[i] = textesc.String(v.Error())
		case fmt.Stringer:
			out[i] = textesc.String(v.String())
		default:
			out[i] = a
		}
	}
	return out
}

// table collects rows and prints them aligned in columns. A table with no
// rows prints nothing, not even its header. Cells are escaped
// (textesc.String): a tab, newline or terminal control inside a name from
// outside cannot break the table or drive the terminal.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

// Row adds one row of cells, escaped.
func (t *table) Row(cells ...string) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = textesc.String(c)
	}
	t.rows = append(t.rows, row)
}

// Paint applies paint (a colour of colors) to cell col of the last row,
// after it was escaped.
func (t *table) Paint(col int, paint func(string) string) {
	row := t.rows[len(t.rows)-1]
	row[col] = paint(row[col])
}

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

// notice prints one status line on stderr: "signet: msg", with its
// arguments escaped (fprintf).
func notice(ios *iostreams, format string, args ...any) {
	fprintf(ios.ErrOut, "signet: "+format+"\n", args...)
}
