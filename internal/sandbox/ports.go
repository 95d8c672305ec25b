package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A node keeps its port for life, so that a restarted node comes back on the same URL. Between
// a node's stop and its next start, and between Up choosing ports and the nodes binding them,
// the port is free as far as the kernel knows: another sandbox being set up at that moment (a
// parallel test, a second `sandbox up`) could pick it, and the node could then never bind it
// again. So every sandbox reserves its ports in a directory shared by all sandboxes of this
// machine: one file per port, naming the sandbox directory that owns it. A reservation whose
// sandbox directory is gone (removed without `sandbox down`) is stale and taken over.
func portsDir() string { return filepath.Join(os.TempDir(), "reauth-sandbox-ports") }

func reservation(port int) string { return filepath.Join(portsDir(), strconv.Itoa(port)) }

// reserve records owner as the port's sandbox; false when another live sandbox holds it.
func reserve(port int, owner string) (bool, error) {
	if err := os.MkdirAll(portsDir(), 0o1777); err != nil {
		return false, fmt.Errorf("port reservations: %w", err)
	}
	for range 2 {
		f, err := os.OpenFile(reservation(port), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(owner + "\n")
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			return werr == nil, werr
		}
		if !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("port reservations: %w", err)
		}
		b, err := os.ReadFile(reservation(port))
		holder := strings.TrimSpace(string(b))
		if err != nil || holder == "" {
			return false, nil // being written by its owner right now
		}
		if _, err := os.Stat(filepath.Join(holder, stateFile)); err == nil || holder == owner {
			return false, nil
		}
		_ = os.Remove(reservation(port)) // stale: its sandbox is gone
	}
	return false, nil
}

// releasePorts drops the reservations owner holds.
func releasePorts(owner string, ports []int) {
	for _, p := range ports {
		if b, err := os.ReadFile(reservation(p)); err == nil && strings.TrimSpace(string(b)) == owner {
			_ = os.Remove(reservation(p))
		}
	}
}

// freePorts picks and reserves n free loopback ports for the sandbox in owner. The ports are
// taken below the kernel's ephemeral range: a port from that range can be handed, while its node
// restarts, to any outgoing connection of this machine (a database client's, say) as its local
// port, and the node could then not bind it again.
func freePorts(n int, owner string) ([]int, error) {
	lo, hi := 20000, ephemeralLow()-1
	if hi-lo <= 1000 {
		return nil, fmt.Errorf("find free ports: the kernel's ephemeral range starts at %d, leaving no room below it", hi+1)
	}
	var out []int
	for tries := 0; len(out) < n && tries < 500; tries++ {
		port := lo + rand.IntN(hi-lo)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // taken: try another
		}
		ok, err := reserve(port, owner)
		l.Close()
		if err != nil {
			releasePorts(owner, out)
			return nil, err
		}
		if ok {
			out = append(out, port)
		}
	}
	if len(out) < n {
		releasePorts(owner, out)
		return nil, fmt.Errorf("find %d free ports between %d and %d: only %d found", n, lo, hi, len(out))
	}
	return out, nil
}
