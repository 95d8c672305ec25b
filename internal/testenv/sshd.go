package testenv

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHD is a private OpenSSH server started for one test, on its own 127.0.0.1 port, with its
// own host key: a bastion or a node behind it. It is stopped when the test ends.
type SSHD struct {
	Name           string
	Host           string // 127.0.0.1
	Port           int
	HostKey        ssh.PublicKey
	LogFile        string // sshd's log (LogLevel DEBUG1: forwarded connections are logged)
	Pid            int    // the listening sshd; each connection is served by a child of it
	KnownHostsLine string // "[127.0.0.1]:port ssh-ed25519 …"
}

// ClientKey writes a new ed25519 private key (OpenSSH format, no passphrase) to path, and its
// public half to path.pub; it returns the authorized_keys line.
func ClientKey(t testing.TB, path string) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "reauth test client")
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := ssh.NewPublicKey(pub)
	line := string(ssh.MarshalAuthorizedKey(sp))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	return line
}

// StartSSHD starts /usr/sbin/sshd (as root, key authentication only, TCP forwarding allowed)
// accepting the authorized_keys lines given, and waits until it accepts connections.
func StartSSHD(t testing.TB, name string, authorizedKeys ...string) *SSHD {
	t.Helper()
	Slow(t)
	bin := "/usr/sbin/sshd"
	if _, err := os.Stat(bin); err != nil {
		Missing(t, "OpenSSH's sshd (/usr/sbin/sshd, Debian's openssh-server)")
	}
	if os.Geteuid() != 0 {
		Missing(t, "root, to run a private sshd that accepts key logins")
	}
	dir := t.TempDir()
	_ = os.MkdirAll("/run/sshd", 0o755) // sshd's privilege-separation directory
	hostPub, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := ssh.MarshalPrivateKey(hostPriv, name+" host key")
	keyFile := filepath.Join(dir, "host_key")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	os.WriteFile(filepath.Join(dir, "authorized_keys"), []byte(strings.Join(authorizedKeys, "")), 0o600)
	port := freePort(t)
	s := &SSHD{Name: name, Host: "127.0.0.1", Port: port, LogFile: filepath.Join(dir, "sshd.log")}
	s.HostKey, _ = ssh.NewPublicKey(hostPub)
	s.KnownHostsLine = fmt.Sprintf("[127.0.0.1]:%d %s", port, ssh.MarshalAuthorizedKey(s.HostKey))
	conf := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowTcpForwarding yes
UsePAM no
StrictModes no
MaxStartups 50
MaxSessions 50
SetEnv PATH=%s
LogLevel DEBUG1
`, port, keyFile, dir, dir, os.Getenv("PATH"))
	cfgFile := filepath.Join(dir, "sshd_config")
	os.WriteFile(cfgFile, []byte(conf), 0o600)
	logf, err := os.Create(s.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-D", "-e", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sshd %s: %v", name, err)
	}
	s.Pid = cmd.Process.Pid
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(s.Host, strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case <-ctx.Done():
			b, _ := os.ReadFile(s.LogFile)
			t.Fatalf("sshd %s did not listen on port %d: %v\n%s", name, port, err, b)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freePort is a 127.0.0.1 TCP port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
