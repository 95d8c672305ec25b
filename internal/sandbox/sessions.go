package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// session is one HTTP session held in a node's memory, as Tomcat (or Jetty) holds it.
type session struct {
	User    string    `json:"user"`
	Created time.Time `json:"created"`
}

// sessionStore is a node's in-memory session map. Nothing survives the process unless
// persistence is on, exactly the property that makes a restart log people out. With shared set
// (Bitbucket's replicated Hazelcast sessions) the sessions live in the cluster's map instead.
type sessionStore struct {
	mu     sync.Mutex
	m      map[string]session
	shared *clusterMap
}

func newSessionStore() *sessionStore { return &sessionStore{m: map[string]session{}} }

// change runs f on the node's own map, or on the cluster's under its lock.
func (s *sessionStore) change(f func(map[string]session)) {
	if s.shared != nil {
		_ = s.shared.update(func(d *clusterDoc) { f(d.Sessions) })
		return
	}
	s.mu.Lock()
	f(s.m)
	s.mu.Unlock()
}

// view runs f on a snapshot of the sessions (the cluster's, when shared).
func (s *sessionStore) view(f func(map[string]session)) {
	if s.shared != nil {
		d, _ := s.shared.read()
		f(d.Sessions)
		return
	}
	s.mu.Lock()
	f(s.m)
	s.mu.Unlock()
}

// create starts a session for user and returns its id (Tomcat style: 32 upper-case hex digits).
func (s *sessionStore) create(user string, now time.Time) string {
	id := strings.ToUpper(randomHex(16))
	s.change(func(m map[string]session) { m[id] = session{User: user, Created: now} })
	return id
}

func (s *sessionStore) get(id string) (v session, ok bool) {
	s.view(func(m map[string]session) { v, ok = m[id] })
	return v, ok
}

func (s *sessionStore) remove(id string) {
	s.change(func(m map[string]session) { delete(m, id) })
}

// removeUser ends every session of user and says how many there were.
func (s *sessionStore) removeUser(user string) int {
	n := 0
	s.change(func(m map[string]session) {
		for id, v := range m {
			if v.User == user {
				delete(m, id)
				n++
			}
		}
	})
	return n
}

func (s *sessionStore) count() (n int) {
	s.view(func(m map[string]session) { n = len(m) })
	return n
}

// save writes every session to path, as Tomcat's StandardManager writes SESSIONS.ser at a
// graceful stop. (Tomcat's file is Java serialization; the sandbox writes JSON under the same
// name: what matters to reauth is where it is and when it exists.)
func (s *sessionStore) save(path string) error {
	s.mu.Lock()
	b, err := json.Marshal(s.m)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save sessions: %w", err)
	}
	return writeFile(path, b, 0o600)
}

// load reads path into the store and deletes the file, as Tomcat does once it has loaded it: the
// file only exists while the node is down. A missing file is no sessions.
func (s *sessionStore) load(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("load sessions: %w", err)
	}
	m := map[string]session{}
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, fmt.Errorf("load sessions from %s: %w", path, err)
	}
	s.mu.Lock()
	for k, v := range m {
		s.m[k] = v
	}
	s.mu.Unlock()
	return len(m), os.Remove(path)
}
