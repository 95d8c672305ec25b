package kube

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/reauth/reauth/internal/editdistance"
)

// The kubeconfig is checked as a YAML tree before it is decoded, because decoding into Go structs
// hides what kubectl (whose loader goes YAML → JSON → typed structs) would see differently: a
// number where a string belongs (yaml.v3 turns `token: 12345` into "12345", kubectl refuses the
// file), a name given twice in one list (kubectl refuses the file), a key given twice in one
// mapping (kubectl takes the last; the decoder refused it with a bare message), and keys neither
// knows (both ignore them, which turns a typo such as `Token:` into anonymous requests).

// shape is what kubectl's types expect at one place of the tree.
type shape struct {
	kind   yaml.Kind         // 0: anything, not checked further (extensions, preferences)
	str    bool              // a scalar that must be a YAML string
	fields map[string]*shape // a mapping with these keys; others are unknown
	values *shape            // a mapping with any keys, each value of this shape
	elem   *shape            // a sequence of these
	named  bool              // a sequence of {name: …} entries whose names must be unique
}

var (
	anything  = &shape{}
	strField  = &shape{kind: yaml.ScalarNode, str: true}
	boolField = &shape{kind: yaml.ScalarNode}
	strList   = &shape{kind: yaml.SequenceNode, elem: strField}
)

func object(fields map[string]*shape) *shape { return &shape{kind: yaml.MappingNode, fields: fields} }

func namedList(entry string, s *shape) *shape {
	return &shape{kind: yaml.SequenceNode, named: true, elem: object(map[string]*shape{"name": strField, entry: s})}
}

// The keys of client-go's clientcmd/api/v1 types (kubectl 1.33). Keys reauth knows but does not use
// (disable-compression, extensions of users and contexts, preferences) are known here all the same:
// they are not typos.
var (
	clusterShape = object(map[string]*shape{
		"server": strField, "tls-server-name": strField, "insecure-skip-tls-verify": boolField,
		"certificate-authority": strField, "certificate-authority-data": strField, "proxy-url": strField,
		"disable-compression": boolField, "extensions": anything,
	})
	execShape = object(map[string]*shape{
		"command": strField, "args": strList, "apiVersion": strField, "installHint": strField,
		"provideClusterInfo": boolField, "interactiveMode": strField,
		"env": {kind: yaml.SequenceNode, elem: object(map[string]*shape{"name": strField, "value": strField})},
	})
	userShape = object(map[string]*shape{
		"client-certificate": strField, "client-certificate-data": strField, "client-key": strField, "client-key-data": strField,
		"token": strField, "tokenFile": strField, "as": strField, "as-uid": strField, "as-groups": strList,
		"as-user-extra": {kind: yaml.MappingNode, values: strList},
		"username":      strField, "password": strField, "auth-provider": anything, "exec": execShape, "extensions": anything,
	})
	contextShape    = object(map[string]*shape{"cluster": strField, "user": strField, "namespace": strField, "extensions": anything})
	kubeconfigShape = object(map[string]*shape{
		"apiVersion": strField, "kind": strField, "current-context": strField, "preferences": anything, "extensions": anything,
		"clusters": namedList("cluster", clusterShape),
		"users":    namedList("user", userShape),
		"contexts": namedList("context", contextShape),
	})
)

// unknownKey is a key no kubeconfig type has, where it was found.
type unknownKey struct {
	key   string
	line  int
	at    string   // the block, e.g. users["u"].user
	file  string   // set when the file is merged
	known []string // the keys that block may have, for suggestions
}

// checked is what checking one file found besides errors: unknown keys, by the entry that holds
// them ("users/u", "clusters/c", "contexts/x"; "" for the top level).
type checked struct {
	unknown map[string][]unknownKey
}

// checkTree refuses what kubectl refuses (a non-string where a string belongs, a name twice in a
// list) and what reauth refuses although kubectl accepts it (a key twice in a mapping), and
// collects the unknown keys.
func checkTree(root *yaml.Node) (*checked, error) {
	c := &checked{unknown: map[string][]unknownKey{}}
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == 0 || root.Kind == yaml.DocumentNode {
		return c, nil // an empty file
	}
	return c, c.walk(root, kubeconfigShape, "", "")
}

func (c *checked) walk(n *yaml.Node, s *shape, at, entry string) error {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.MappingNode {
		if err := uniqueKeys(n, at); err != nil {
			return err
		}
	}
	if s.kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && !s.str) {
		return anythingBelow(n, at) // null is an empty list, mapping or false, as for kubectl
	}
	if n.Kind != s.kind {
		return fmt.Errorf("line %d: %s is %s, where kubectl expects %s", n.Line, orTop(at), describe(n), kindName(s))
	}
	switch {
	case s.str && (n.ShortTag() != "!!str" || yaml11Bool(n)):
		return fmt.Errorf("line %d: %s is %s, not a string (kubectl refuses it too; reauth does not turn it into one): quote the value",
			n.Line, orTop(at), describe(n))
	case !s.str && s.kind == yaml.ScalarNode && n.ShortTag() != "!!bool" && !yaml11Bool(n):
		return fmt.Errorf("line %d: %s is %s, where kubectl expects true or false (unquoted)", n.Line, orTop(at), describe(n))
	case s.kind == yaml.SequenceNode:
		return c.walkList(n, s, at, entry)
	case s.kind == yaml.MappingNode:
		return c.walkMapping(n, s, at, entry)
	}
	return nil
}

func (c *checked) walkMapping(n *yaml.Node, s *shape, at, entry string) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" { // a YAML merge key: its mapping's keys are not checked
			continue
		}
		sub := s.values
		if s.fields != nil {
			if sub = s.fields[k.Value]; sub == nil {
				c.unknown[entry] = append(c.unknown[entry], unknownKey{key: k.Value, line: k.Line, at: orTop(at), known: shapeKeys(s.fields)})
				continue
			}
		}
		if err := c.walk(v, sub, join(at, k.Value), entry); err != nil {
			return err
		}
	}
	return nil
}

func (c *checked) walkList(n *yaml.Node, s *shape, at, entry string) error {
	seen := map[string]int{}
	for i, e := range n.Content {
		where, sub := fmt.Sprintf("%s[%d]", at, i), entry
		if s.named {
			name, line := entryName(e)
			if first, dup := seen[name]; dup {
				return fmt.Errorf("line %d: %s has two entries named %q (also line %d); kubectl refuses this file too (\"duplicate name\"): rename or remove one",
					line, at, name, first)
			}
			seen[name] = line
			where, sub = fmt.Sprintf("%s[%q]", at, name), at+"/"+name
		}
		if err := c.walk(e, s.elem, where, sub); err != nil {
			return err
		}
	}
	return nil
}

// entryName is a list entry's name: value and line.
func entryName(e *yaml.Node) (string, int) {
	if e.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(e.Content); i += 2 {
			if e.Content[i].Value == "name" {
				return e.Content[i+1].Value, e.Content[i].Line
			}
		}
	}
	return "", e.Line
}

// anythingBelow checks a subtree reauth does not read for repeated keys only.
func anythingBelow(n *yaml.Node, at string) error {
	if n.Kind == yaml.MappingNode {
		if err := uniqueKeys(n, at); err != nil {
			return err
		}
	}
	for _, sub := range n.Content {
		if sub.Kind == yaml.MappingNode || sub.Kind == yaml.SequenceNode {
			if err := anythingBelow(sub, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// uniqueKeys refuses a mapping that gives a key twice. kubectl takes the last value; reauth does not
// choose between two tokens or two servers for a tool that deletes pods.
func uniqueKeys(n *yaml.Node, at string) error {
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if l, dup := first[k.Value]; dup {
			return fmt.Errorf("line %d: %s has %q twice (also line %d): remove one. kubectl would take the last one without a word; reauth refuses to guess which one was meant",
				k.Line, orTop(at), k.Value, l)
		}
		first[k.Value] = k.Line
	}
	return nil
}

// yaml11Bool reports whether n is an unquoted scalar that YAML 1.1 reads as a bool. kubectl's
// YAML (sigs.k8s.io/yaml, on go-yaml v2) is YAML 1.1: `namespace: no` is false to it, and a bool
// where a string belongs makes it refuse the file, while yaml.v3 reads the string "no".
func yaml11Bool(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Style != 0 {
		return false
	}
	switch n.Value {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return true
	}
	return n.ShortTag() == "!!bool"
}

// describe says what a node is without its value (a kubeconfig holds tokens and keys).
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if yaml11Bool(n) {
		return "a YAML bool (kubectl reads unquoted y, yes, no, on, off… as true or false)"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "a YAML number"
	case "!!bool":
		return "a YAML bool"
	case "!!null":
		return "null (empty)"
	case "!!str":
		return "a string"
	}
	return "a YAML " + strings.TrimPrefix(n.ShortTag(), "!!")
}

func kindName(s *shape) string {
	switch s.kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if s.str {
		return "a string"
	}
	return "true or false"
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func orTop(at string) string {
	if at == "" {
		return "the top level"
	}
	return at
}

func shapeKeys(m map[string]*shape) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// suggest is the known key an unknown one is probably a misspelling of ("" if none is close):
// the same letters in another case, or at most two edits away.
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
		if d := editdistance.Of(strings.ToLower(key), strings.ToLower(k)); d < bestD && d < len(k)/2+1 {
			best, bestD = k, d
		}
	}
	return best
}

// shownKey is an unknown key as errors and warnings show it: only if it looks like a key name, since
// a line mangled into a key (a pasted token followed by a colon) must not reach a log.
func shownKey(k string) string {
	ok := len(k) > 0 && len(k) <= 64
	for _, r := range k {
		ok = ok && (r == '-' || r == '_' || r == '.' || r == '/' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z'))
	}
	if !ok {
		return "(a key not shown: it does not look like a key name)"
	}
	return k
}

// describeUnknown is "Token (line 7; did you mean token?), foo (line 8)".
func describeUnknown(keys []unknownKey) string {
	parts := make([]string, len(keys))
	for i, u := range keys {
		parts[i] = shownKey(u.key) + " (line " + strconv.Itoa(u.line)
		if s := suggest(u.key, u.known); s != "" {
			parts[i] += "; did you mean " + s + "?"
		}
		parts[i] += ")"
	}
	return strings.Join(parts, ", ")
}
