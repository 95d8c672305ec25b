package cookiefile

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadCurlFile(t *testing.T) {
	// The shape curl -c writes, including its HttpOnly prefix and a session cookie.
	in := "# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n\n" +
		"#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tJSESSIONID\tABC123\n" +
		".example.com\tTRUE\t/jira\tTRUE\t1893456000\tseraph.rememberme.cookie\t10100:deadbeef\n" +
		"example.org\tFALSE\t/\tFALSE\t0\tempty\n"
	got, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Cookie{
		{Domain: "127.0.0.1", Path: "/", HTTPOnly: true, Name: "JSESSIONID", Value: "ABC123"},
		{Domain: "example.com", IncludeSubdomains: true, Path: "/jira", Secure: true,
			Expires: time.Unix(1893456000, 0).UTC(), Name: "seraph.rememberme.cookie", Value: "10100:deadbeef"},
		{Domain: "example.org", Path: "/", Name: "empty"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d cookies, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("cookie %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"too few fields", "a\tTRUE\t/\n", "line 1: want 7"},
		{"bad bool", "a\tYES\t/\tFALSE\t0\tn\tv\n", "include-subdomains"},
		{"bad expiry", "\n\na\tTRUE\t/\tFALSE\tsoon\tn\tv\n", "line 3: expiry"},
		{"negative expiry", "a\tTRUE\t/\tFALSE\t-5\tn\tv\n", "expiry"},
		{"empty name", "a\tTRUE\t/\tFALSE\t0\t\tv\n", "empty domain or cookie name"},
		{"semicolon", "a\tTRUE\t/\tFALSE\t0\tn\tv;x\n", "cannot carry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSaveLoadRoundTripAndMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jar.txt")
	in := []Cookie{
		{Domain: "127.0.0.1", Path: "/", HTTPOnly: true, Name: "BITBUCKETSESSIONID", Value: "x1"},
		{Domain: "127.0.0.1", Path: "/", Expires: time.Unix(2000000000, 0).UTC(), Name: "_atl_bitbucket_remember_me", Value: "c2VyaWVzOnRva2Vu"},
	}
	if err := Save(path, in); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: the file holds live credentials", st.Mode().Perm())
	}
	out, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0] != in[0] || out[1] != in[1] {
		t.Fatalf("round trip changed cookies:\n in %+v\nout %+v", in, out)
	}
}

func TestWriteRefusesTabs(t *testing.T) {
	err := Write(&bytes.Buffer{}, []Cookie{{Domain: "a", Path: "/", Name: "n", Value: "a\tb"}})
	if err == nil {
		t.Fatal("a tab in a value must be refused: it would corrupt the file")
	}
}

func TestJarMatching(t *testing.T) {
	j := NewJar(nil)
	now := time.Unix(1700000000, 0)
	j.now = func() time.Time { return now }
	node1, _ := url.Parse("http://127.0.0.1:8080/login.jsp")
	node2, _ := url.Parse("http://127.0.0.1:9090/rest/auth/1/session")
	other, _ := url.Parse("http://127.0.0.2:8080/")
	j.SetCookies(node1, []*http.Cookie{
		{Name: "JSESSIONID", Value: "s1", Path: "/", HttpOnly: true},
		{Name: "seraph.rememberme.cookie", Value: "1:t", Path: "/", MaxAge: 3600},
		{Name: "scoped", Value: "v", Path: "/secure"},
		{Name: "evil", Value: "v", Domain: "example.com"},
	})
	names := func(u *url.URL) string {
		var s []string
		for _, c := range j.Cookies(u) {
			s = append(s, c.Name+"="+c.Value)
		}
		return strings.Join(s, ",")
	}
	if got := names(node2); got != "JSESSIONID=s1,seraph.rememberme.cookie=1:t" {
		t.Errorf("other port of the same host: %q (cookies ignore ports)", got)
	}
	if got := names(other); got != "" {
		t.Errorf("other host got %q", got)
	}
	sec, _ := url.Parse("http://127.0.0.1:8080/secure/Dashboard.jspa")
	if got := names(sec); !strings.HasPrefix(got, "scoped=v,") {
		t.Errorf("longest path first: %q", got)
	}
	// Max-Age<0 deletes; expiry passes.
	j.SetCookies(node1, []*http.Cookie{{Name: "JSESSIONID", Value: "", Path: "/", MaxAge: -1}})
	now = now.Add(2 * time.Hour)
	if got := names(node1); got != "" {
		t.Errorf("after delete and expiry: %q", got)
	}
	if n := len(j.All()); n != 1 { // "scoped" (session cookie) is left
		t.Errorf("All() = %d cookies, want 1", n)
	}
}

// FuzzRead checks that Read never panics and that whatever it accepts survives Write+Read unchanged.
func FuzzRead(f *testing.F) {
	f.Add("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tJSESSIONID\tABC\n")
	f.Add(".a.b\tTRUE\t/x\tTRUE\t99\tn\tv\n# c\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := Read(strings.NewReader(in))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, cs); err != nil {
			return // e.g. a value with a carriage return: refused, not corrupted
		}
		back, err := Read(&buf)
		if err != nil {
			t.Fatalf("re-read of written file failed: %v\n%s", err, buf.String())
		}
		if len(back) != len(cs) {
			t.Fatalf("round trip: %d cookies became %d", len(cs), len(back))
		}
		for i := range cs {
			if back[i] != cs[i] {
				t.Fatalf("round trip changed cookie %d: %+v -> %+v", i, cs[i], back[i])
			}
		}
	})
}
