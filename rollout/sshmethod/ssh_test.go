package sshmethod

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/testenv"
)

func server(t *testing.T) (testenv.SSH, string, int) {
	s := testenv.SSHServer(t)
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return s, host, p
}

func noEnv(string) string { return "" }

func TestRestartOverRealSSHD(t *testing.T) {
	s, host, port := server(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "restarted")
	r := New(Config{Host: host, Port: port, User: s.User, KeyFiles: []string{s.KeyFile}, KnownHosts: s.KnownHosts,
		Command: "echo restarting; echo to-stderr >&2; touch " + reauth.ShellQuote(marker), Getenv: noEnv})
	defer r.Close()
	ctx := context.Background()
	if err := r.Preflight(ctx); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := r.Restart(ctx, &log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the command did not run: %v", err)
	}
	if !strings.Contains(log.String(), "restarting") || !strings.Contains(log.String(), "to-stderr") {
		t.Errorf("log = %q", log.String())
	}
	// Files over the same connection: read, a missing file, and removing a glob.
	os.MkdirAll(filepath.Join(dir, "work", "it's"), 0o755)
	os.WriteFile(filepath.Join(dir, "work", "it's", "SESSIONS.ser"), []byte("sessions"), 0o600)
	b, err := r.ReadFile(ctx, filepath.Join(dir, "work", "it's", "SESSIONS.ser"))
	if err != nil || string(b) != "sessions" {
		t.Errorf("read = %q, %v", b, err)
	}
	if _, err := r.ReadFile(ctx, filepath.Join(dir, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read missing: %v", err)
	}
	log.Reset()
	if err := r.RemoveFiles(ctx, []string{filepath.Join(dir, "work", "*", "SESSIONS.ser")}, &log); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "work", "it's", "SESSIONS.ser")); !os.IsNotExist(err) || !strings.Contains(log.String(), "removed") {
		t.Errorf("not removed: %v, log %q", err, log.String())
	}
	// A failing command is an error with its exit status.
	bad := New(Config{Host: host, Port: port, User: s.User, KeyFiles: []string{s.KeyFile}, KnownHosts: s.KnownHosts, Command: "exit 3", Getenv: noEnv})
	defer bad.Close()
	if err := bad.Restart(ctx, &log); err == nil || !strings.Contains(err.Error(), "exited with status 3") {
		t.Errorf("failing command: %v", err)
	}
}

func TestStopStartTTYAndTimeout(t *testing.T) {
	s, host, port := server(t)
	var log bytes.Buffer
	r := New(Config{Host: host, Port: port, User: s.User, KeyFiles: []string{s.KeyFile}, KnownHosts: s.KnownHosts,
		StopCmd: "tty", StartCmd: "true", TTY: true, Getenv: noEnv})
	defer r.Close()
	if !r.CanStopStart() {
		t.Fatal("stop/start not configured")
	}
	if err := r.Stop(context.Background(), &log); err != nil || !strings.Contains(log.String(), "/dev/pts/") {
		t.Errorf("tty: %v, %q", err, log.String())
	}
	slow := New(Config{Host: host, Port: port, User: s.User, KeyFiles: []string{s.KeyFile}, KnownHosts: s.KnownHosts,
		StopCmd: "true", StartCmd: "sleep 30", Timeout: 500 * time.Millisecond, Getenv: noEnv})
	defer slow.Close()
	if err := slow.Preflight(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := slow.Start(context.Background(), &log)
	if err == nil || !strings.Contains(err.Error(), "did not finish within") || time.Since(start) > 10*time.Second {
		t.Errorf("timeout: %v after %v", err, time.Since(start))
	}
}

func TestAgentAuth(t *testing.T) {
	s, host, port := server(t)
	b, err := os.ReadFile(s.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParseRawPrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	env := func(k string) string {
		if k == "SSH_AUTH_SOCK" {
			return sock
		}
		return ""
	}
	r := New(Config{Host: host, Port: port, User: s.User, KnownHosts: s.KnownHosts, Command: "true", Getenv: env})
	defer r.Close()
	if err := r.Preflight(context.Background()); err != nil {
		t.Fatalf("agent auth: %v", err)
	}
	// Without the agent and without key files there is nothing to authenticate with.
	off := false
	r2 := New(Config{Host: host, Port: port, User: s.User, KnownHosts: s.KnownHosts, Command: "true", Agent: &off,
		Getenv: func(k string) string {
			if k == "HOME" {
				return t.TempDir()
			}
			return ""
		}})
	if err := r2.Preflight(context.Background()); reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "no key") {
		t.Errorf("no key: %v", err)
	}
}

func TestHostKeyRefusals(t *testing.T) {
	s, host, port := server(t)
	pub, err := os.ReadFile(s.HostKeyPub)
	if err != nil {
		testenv.Missing(t, "the sshd host public key (REAUTH_TEST_SSH_HOSTKEY_PUB)")
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	realFP := ssh.FingerprintSHA256(hostKey)
	other, _, _ := ed25519.GenerateKey(rand.Reader) // a public key that is not the server's
	otherPub, _ := ssh.NewPublicKey(other)
	dir := t.TempDir()
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte("[127.0.0.1]:"+strconv.Itoa(port)+" "+string(ssh.MarshalAuthorizedKey(otherPub))), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	unrelated := filepath.Join(dir, "unrelated")
	os.WriteFile(unrelated, []byte("otherhost "+string(ssh.MarshalAuthorizedKey(otherPub))), 0o600)
	cases := []struct {
		name, knownHosts string
		want             []string
	}{
		{"wrong host key", wrong, []string{"HOST KEY MISMATCH", realFP, ssh.FingerprintSHA256(otherPub)}},
		{"unknown host (empty file)", empty, []string{"host key unknown", realFP, "ssh-keyscan -p " + strconv.Itoa(port)}},
		{"unknown host (other hosts only)", unrelated, []string{"host key unknown", realFP}},
		{"missing known_hosts", filepath.Join(dir, "missing"), []string{"known_hosts file", "ssh-keyscan"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			r := New(Config{Host: host, Port: port, User: s.User, KeyFiles: []string{s.KeyFile}, KnownHosts: tc.knownHosts,
				Command: "touch " + marker, Getenv: noEnv})
			defer r.Close()
			err := r.Preflight(context.Background())
			if reauth.CodeOf(err) != reauth.ExitRefused {
				t.Fatalf("code %d: %v", reauth.CodeOf(err), err)
			}
			all := err.Error() + "\n" + reauth.HintOf(err)
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("message lacks %q:\n%s", w, all)
				}
			}
			if err := r.Restart(context.Background(), nil); err == nil {
				t.Error("restart ran despite the host key")
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the command ran on an unverified host")
			}
		})
	}
}

func TestGlobQuote(t *testing.T) {
	cases := map[string]string{
		"/a/b":             "/a/b", // nothing the shell would read: left as it is
		"/a/*/SESSIONS":    "/a/*/SESSIONS",
		"/it's/*":          `'/it'\''s/'*`,
		"/x y/*/S.ser":     "'/x y/'*/S.ser",
		"/ends/with/star*": "/ends/with/star*",
		"/$HOME/*;rm":      "'/$HOME/'*';rm'",
	}
	for in, want := range cases {
		if got := globQuote(in); got != want {
			t.Errorf("globQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
