package reauth

import "encoding/json"

// Secret holds a password or token. It never prints itself: fmt, %v, %s, %q, JSON and slog all
// see "***". Use Reveal only at the point where the value goes to a driver or a server.
type Secret struct{ v string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the secret value. Call it only to hand the value to a driver or a server.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no secret was given.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "***"
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `reauth.Secret("***")` }

// MarshalJSON never emits the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText never emits the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
