package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Bitbucket's hazelcast.http.sessions, as the sandbox models it (Options.HazelcastSessions).
const (
	HazelcastLocal      = "local"      // each node's own memory: the default (BSERV-13407)
	HazelcastReplicated = "replicated" // the cluster's Hazelcast map
)

// clusterMap is the cluster's Hazelcast session map, as replicated HTTP sessions see it: every live
// node reads and writes the same sessions (a session started on node1 is valid on node2), and the
// map lives as long as one member is up. It is a file in DIR/hazelcast, changed under an exclusive
// flock, holding the members (node name → pid) and the sessions. A node joins when it starts and
// leaves when it stops; when the last member leaves (or every member's process is gone) the
// sessions go with it, as the map goes with the last Hazelcast member.
type clusterMap struct {
	dir, name string
}

type clusterDoc struct {
	Members  map[string]int     `json:"members"`
	Sessions map[string]session `json:"sessions"`
}

func newClusterMap(sandboxDir, name string) *clusterMap {
	return &clusterMap{dir: filepath.Join(sandboxDir, "hazelcast"), name: name}
}

func (c *clusterMap) path() string { return filepath.Join(c.dir, "sessions.json") }

// update runs f on the map under the cluster's lock and writes the result.
func (c *clusterMap) update(f func(*clusterDoc)) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(c.dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock the cluster's session map: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck
	doc, err := c.read()
	if err != nil {
		return err
	}
	f(&doc)
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return writeFile(c.path(), b, 0o600)
}

// read is the map as last written (writes are atomic renames: no lock needed to read).
func (c *clusterMap) read() (clusterDoc, error) {
	doc := clusterDoc{Members: map[string]int{}, Sessions: map[string]session{}}
	b, err := os.ReadFile(c.path())
	if errors.Is(err, fs.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return doc, err
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return doc, fmt.Errorf("read %s: %w", c.path(), err)
	}
	if doc.Members == nil {
		doc.Members = map[string]int{}
	}
	if doc.Sessions == nil {
		doc.Sessions = map[string]session{}
	}
	return doc, nil
}

// prune drops members whose process is gone (killed without leaving); with no member left, the
// sessions are gone too.
func (d *clusterDoc) prune(self string) {
	for name, pid := range d.Members {
		if name != self && !alive(pid) {
			delete(d.Members, name)
		}
	}
	if len(d.Members) == 0 {
		d.Sessions = map[string]session{}
	}
}

// join makes this node a member; it says how many sessions the map held when it joined.
func (c *clusterMap) join(pid int) (int, error) {
	k := 0
	err := c.update(func(d *clusterDoc) {
		delete(d.Members, c.name)
		d.prune(c.name)
		d.Members[c.name] = pid
		k = len(d.Sessions)
	})
	return k, err
}

// leave takes this node out; it says whether the map (and every session in it) went with it.
func (c *clusterMap) leave() (bool, error) {
	gone := false
	err := c.update(func(d *clusterDoc) {
		delete(d.Members, c.name)
		d.prune(c.name)
		gone = len(d.Members) == 0
	})
	return gone, err
}
