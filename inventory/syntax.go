package inventory

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth"
)

// maxLocateLines bounds the work syntaxError does to find the line: beyond it (no real inventory
// is that long) the YAML library's own line is reported.
const maxLocateLines = 2000

var yamlLine = regexp.MustCompile(`^yaml: line \d+: `)

// syntaxError reports a YAML syntax error at the line where the file stops being valid YAML.
// The YAML library names the line where the enclosing block began (a key four lines up for a
// badly indented one), so the line is found here instead: it is the one after the longest
// prefix of whole lines that still parses. An unclosed quote or bracket is thus reported on the
// line that opens it, an indentation error on the line that breaks it.
func (d *decoder) syntaxError(data []byte, err error) error {
	msg := yamlLine.ReplaceAllString(err.Error(), "")
	msg = strings.TrimPrefix(msg, "yaml: ")
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxLocateLines {
		return reauth.Usage("fix the YAML syntax", "%s: %v", d.name, err)
	}
	line := 1
	for n := len(lines) - 1; n >= 0; n-- {
		if parses(bytes.Join(lines[:n], nil)) {
			line = n + 1
			break
		}
	}
	hint := "fix the YAML syntax at that line (indentation: spaces only, the same depth for keys of one block; quotes and brackets closed)"
	return lineError(d.name, line, hint, "YAML syntax: %s", msg)
}

// parses reports whether every document in b is valid YAML.
func parses(b []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}
