package atlassian

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is a minimal XML element tree: enough to look settings up by element and attribute name
// without binding each product's format to Go structs (Fisheye's format is not even confirmed).
type node struct {
	Name     string
	Attrs    map[string]string
	Text     string
	Children []*node
	Line     int
}

// maxXMLDepth bounds nesting so that hostile input cannot exhaust memory or stack in the
// recursive lookups; real config files nest fewer than ten levels.
const maxXMLDepth = 200

// xmlSyntaxError is an XML file that could not be read even tolerantly.
type xmlSyntaxError struct {
	Line int
	Msg  string
}

func (e *xmlSyntaxError) Error() string {
	return fmt.Sprintf("not well-formed XML at line %d: %s", e.Line, e.Msg)
}

// parseXMLTolerant parses data strictly; when that fails only because of bare '&' characters
// (the official Docker images write JDBC URLs into XML unescaped), it escapes them and parses
// again, reporting tolerant=true so the caller can warn.
func parseXMLTolerant(data []byte) (root *node, tolerant bool, err error) {
	root, err = parseXML(data)
	if err == nil {
		return root, false, nil
	}
	fixed, changed := escapeStrayAmpersands(data)
	if !changed {
		return nil, false, err
	}
	root, err2 := parseXML(fixed)
	if err2 != nil {
		return nil, false, err // the original error says where the file first went wrong
	}
	return root, true, nil
}

func parseXML(data []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line, msg = se.Line, se.Msg
			}
			return nil, &xmlSyntaxError{Line: line, Msg: msg}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				line, _ := d.InputPos()
				return nil, &xmlSyntaxError{Line: line, Msg: fmt.Sprintf("elements nested deeper than %d", maxXMLDepth)}
			}
			line, _ := d.InputPos()
			n := &node{Name: t.Name.Local, Line: line}
			for _, a := range t.Attr {
				if n.Attrs == nil {
					n.Attrs = map[string]string{}
				}
				n.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, &xmlSyntaxError{Line: line, Msg: "more than one root element"}
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
	}
	if root == nil {
		return nil, &xmlSyntaxError{Line: 1, Msg: "no root element (empty file?)"}
	}
	return root, nil
}

// charsetReader lets files declared as ISO-8859-1 / Latin-1 / US-ASCII be read; Go's decoder
// only knows UTF-8 by itself.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "windows-1252", "cp1252":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		var out strings.Builder
		for _, c := range b {
			out.WriteRune(rune(c))
		}
		return strings.NewReader(out.String()), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q: save the file as UTF-8", label)
}

// escapeStrayAmpersands replaces every '&' that does not start an entity or character reference
// with "&amp;".
func escapeStrayAmpersands(data []byte) ([]byte, bool) {
	if !bytes.Contains(data, []byte("&")) {
		return data, false
	}
	var out bytes.Buffer
	changed := false
	for i := 0; i < len(data); i++ {
		if data[i] == '&' && !startsEntity(data[i+1:]) {
			out.WriteString("&amp;")
			changed = true
			continue
		}
		out.WriteByte(data[i])
	}
	return out.Bytes(), changed
}

func startsEntity(b []byte) bool {
	end := bytes.IndexByte(b, ';')
	if end <= 0 || end > 32 {
		return false
	}
	ref := string(b[:end])
	switch ref {
	case "amp", "lt", "gt", "quot", "apos":
		return true
	}
	if strings.HasPrefix(ref, "#x") || strings.HasPrefix(ref, "#X") {
		return len(ref) > 2 && strings.Trim(ref[2:], "0123456789abcdefABCDEF") == ""
	}
	if strings.HasPrefix(ref, "#") {
		return len(ref) > 1 && strings.Trim(ref[1:], "0123456789") == ""
	}
	return false
}

// find returns the first element named name (case-insensitive) at or below n, depth first.
func (n *node) find(name string) *node {
	if n == nil {
		return nil
	}
	if strings.EqualFold(n.Name, name) {
		return n
	}
	for _, c := range n.Children {
		if f := c.find(name); f != nil {
			return f
		}
	}
	return nil
}

// findAll returns every element named name at or below n.
func (n *node) findAll(name string, out []*node) []*node {
	if n == nil {
		return out
	}
	if strings.EqualFold(n.Name, name) {
		out = append(out, n)
	}
	for _, c := range n.Children {
		out = c.findAll(name, out)
	}
	return out
}

// child returns the text of the first direct child named name, trimmed, and whether it exists.
func (n *node) child(name string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, c := range n.Children {
		if strings.EqualFold(c.Name, name) {
			return strings.TrimSpace(c.Text), true
		}
	}
	return "", false
}

// attr returns the attribute named name (case-insensitive).
func (n *node) attr(name string) (string, bool) {
	if n == nil {
		return "", false
	}
	if v, ok := n.Attrs[name]; ok {
		return v, true
	}
	for k, v := range n.Attrs {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
