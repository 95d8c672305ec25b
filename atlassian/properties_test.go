package atlassian

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Properties
	}{
		{"separators", "a=1\nb:2\nc 3\nd\t4\ne = 5\nf : 6\ng   7\n", Properties{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7"}},
		{"comments and blanks", "# comment\n! also\n   # indented\n\n  \nk=v\n", Properties{"k": "v"}},
		{"hash inside value is literal", "jdbc.password=pa#ss!\n", Properties{"jdbc.password": "pa#ss!"}},
		{"only the first separator splits", "jdbc.url=jdbc:postgresql://h:5432/db?a=b\n", Properties{"jdbc.url": "jdbc:postgresql://h:5432/db?a=b"}},
		{"key without value", "lonely\nempty=\n", Properties{"lonely": "", "empty": ""}},
		{"continuation", "k=one \\\n    two\\\n\tthree\n", Properties{"k": "one twothree"}},
		{"even backslashes do not continue", "k=a\\\\\nx=y\n", Properties{"k": `a\`, "x": "y"}},
		{"continued comment line is not a comment", "a=1\\\n# not a comment\n", Properties{"a": "1# not a comment"}},
		{"comment lines do not continue", "# a comment \\\nk=v\n", Properties{"k": "v"}},
		{"escapes", `k=tab\there\nnl\rcr\fff\\bs\=eq\:colon\ sp`, Properties{"k": "tab\there\nnl\rcr\fff\\bs=eq:colon sp"}},
		{"escaped separators in key", `my\ key\=x=v`, Properties{"my key=x": "v"}},
		{"unicode escapes", `k=caf\u00e9 \u20AC`, Properties{"k": "café €"}},
		{"surrogate pair", `k=\uD83D\uDE00`, Properties{"k": "😀"}},
		{"unknown escape drops the backslash", `k=\q\z`, Properties{"k": "qz"}},
		{"trailing whitespace kept, leading dropped", "k =   v  \n", Properties{"k": "v  "}},
		{"CRLF and CR line ends", "a=1\r\nb=2\rc=3", Properties{"a": "1", "b": "2", "c": "3"}},
		{"last duplicate wins", "k=1\nk=2\n", Properties{"k": "2"}},
		{"continuation at end of file", "k=v\\", Properties{"k": "v"}},
		{"BOM", "\uFEFFk=v", Properties{"k": "v"}},
		{"latin-1 bytes", "k=caf\xe9", Properties{"k": "café"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProperties([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a=1\nk=\\u12", "line 2"},
		{"k=\\u12G4", "malformed \\u escape"},
		{"\\uXYZW=v", "line 1"},
	}
	for _, tt := range tests {
		_, err := ParseProperties([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestReadPropertiesConfigCiphers(t *testing.T) {
	tests := []struct{ in, class string }{
		{"jdbc.url=jdbc:postgresql://h/db\njdbc.password.decrypter.classname=" + Base64CipherClass + "\n", Base64CipherClass},
		{"jdbc.url=jdbc:postgresql://h/db\nencrypted-property.cipher.classname=" + Base64SecretStoreClass + "\n", Base64SecretStoreClass},
	}
	for _, tt := range tests {
		s, err := readPropertiesConfig([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if s.CipherClass != tt.class {
			t.Errorf("cipher %q, want %q", s.CipherClass, tt.class)
		}
	}
}
