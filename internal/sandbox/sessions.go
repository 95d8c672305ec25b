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
// persistence is on, exactly the property that makes a restart log people out.
type sessionStore struct {
	mu sync.Mutex
	m  map[string]session
}

func newSessionStore() *sessionStore { return &sessionStore{m: map[string]session{}} }

// create starts a session for user and returns its id (Tomcat style: 32 upper-case hex digits).
func (s *sessionStore) create(user string, now time.Time) string {
	id := strings.ToUpper(randomHex(16))
	s.mu.Lock()
	s.m[id] = session{User: user, Created: now}
	s.mu.Unlock()
	return id
}

func (s *sessionStore) get(id string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	return v, ok
}

func (s *sessionStore) remove(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// removeUser ends every session of user and says how many there were.
func (s *sessionStore) removeUser(user string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, v := range s.m {
		if v.User == user {
			delete(s.m, id)
			n++
		}
	}
	return n
}

func (s *sessionStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
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
