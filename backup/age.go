package backup

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/ssh"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/boundedfile"
)

// An encrypted backup (manifest.encryption "age") is the clear gzip member of the manifest (so
// that inspect and restore --dry-run show it without a key), then frames: "rage", a 4-byte
// big-endian length, and that many bytes.
//
// Frame 0 is one age file, encrypted to the recipients, holding a random 32-byte file key K and
// HMAC-SHA256(K, manifest line). Every later frame is one gzip member (a batch of rows, or the
// trailer) sealed with ChaCha20-Poly1305 under K, its nonce the frame's number and its additional
// data the sha256 of the manifest line. Each frame is written whole and fsynced before the delete
// of its rows commits: nothing waits in a cipher's buffer (age's own STREAM would hold up to a
// 64 KiB chunk open across batches), and a frame costs no public-key operation (one age file per
// batch cost an X25519 wrap per recipient and batch, 1.3x the CPU of a clear purge).
//
// Someone who can write the file but holds no identity cannot read K: an edited manifest (the
// additional data), a flipped byte, a frame replaced, moved, repeated or dropped (the nonce) all
// fail to open. (age has no sender signature: someone with write access and the recipients'
// public keys could still forge a whole new file. Restore refuses rows outside the manifest's
// cut-off and filters, and the report and audit log name the sha256.) The writer verifies the file
// as it grows with K, which it holds in memory only.

// Identity decrypts backups (an age X25519 identity or an SSH private key).
type Identity = age.Identity

// Recipient is someone a backup is encrypted to.
type Recipient = age.Recipient

const (
	encryptionAge = "age"
	frameMagic    = "rage"
	keySize       = chacha20poly1305.KeySize
	maxFrame      = maxMember + chacha20poly1305.Overhead
)

// fileKey is the writer's own K, handed to its Follower as an identity: it opens the frames
// without the recipients' keys, and lives only in memory.
type fileKey []byte

func (fileKey) Unwrap([]*age.Stanza) ([]byte, error) { return nil, age.ErrIncorrectIdentity }

// sealer encrypts a writer's members into frames.
type sealer struct {
	key  []byte
	aead cipher.AEAD
	ad   []byte // sha256 of the manifest line
	n    uint64 // frames sealed after frame 0
}

func newSealer(rcpts []Recipient, manifestLine []byte) (*sealer, []byte, error) {
	s := &sealer{key: make([]byte, keySize)}
	if _, err := rand.Read(s.key); err != nil {
		return nil, nil, err
	}
	var err error
	if s.aead, err = chacha20poly1305.New(s.key); err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(manifestLine)
	s.ad = sum[:]
	var buf bytes.Buffer
	buf.WriteString(frameMagic + "\x00\x00\x00\x00")
	ew, err := age.Encrypt(&buf, rcpts...)
	if err == nil {
		_, err = ew.Write(append(append([]byte(nil), s.key...), manifestMAC(s.key, manifestLine)...))
	}
	if err == nil {
		err = ew.Close()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("encrypt backup key: %w", err)
	}
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[len(frameMagic):], uint32(len(b)-8))
	return s, b, nil
}

func manifestMAC(key, manifestLine []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("manifest"))
	m.Write(manifestLine)
	return m.Sum(nil)
}

func nonce(n uint64) []byte {
	b := make([]byte, chacha20poly1305.NonceSize)
	binary.BigEndian.PutUint64(b[len(b)-8:], n)
	return b
}

// seal returns the frame of member: sealed under K with the next frame number as nonce.
func (s *sealer) seal(member []byte) ([]byte, error) {
	s.n++
	out := make([]byte, 8, 8+len(member)+s.aead.Overhead())
	copy(out, frameMagic)
	out = s.aead.Seal(out, nonce(s.n), member, s.ad)
	binary.BigEndian.PutUint32(out[len(frameMagic):], uint32(len(out)-8))
	return out, nil
}

// ageFrames reads and authenticates an encrypted backup's frames.
type ageFrames struct {
	path     string
	br       *bufio.Reader
	ids      []Identity
	manifest []byte
	aead     cipher.AEAD
	ad       []byte
	n        uint64
	gz       *gzip.Reader
}

// ErrNoIdentity is wrapped by the refusal to read an encrypted backup's rows without an identity.
var ErrNoIdentity = errors.New("backup is encrypted")

// open reads frame 0: the file key, from the identities (or the writer's own key).
func (a *ageFrames) open() error {
	ct, err := a.frame()
	if err == io.EOF {
		return errCut
	}
	if err != nil {
		return err
	}
	var key []byte
	for _, id := range a.ids {
		if k, ok := id.(fileKey); ok {
			key = k
		}
	}
	if key == nil {
		if len(a.ids) == 0 {
			return reauth.Refused("give --identity FILE: the age identity or SSH private key of one of the backup's recipients",
				"%w: %s", ErrNoIdentity, a.path)
		}
		dr, err := age.Decrypt(bytes.NewReader(ct), a.ids...)
		if err != nil {
			var nm *age.NoIdentityMatchError
			if errors.As(err, &nm) {
				return reauth.Refused("give --identity the key of one of the recipients the backup was encrypted to",
					"backup %s: none of the identities given decrypts it", a.path)
			}
			return corrupt(a.path, "the key frame does not decrypt (%v)", err)
		}
		plain, err := io.ReadAll(io.LimitReader(dr, 1<<10))
		if err != nil || len(plain) != keySize+sha256.Size {
			return corrupt(a.path, "the key frame was altered")
		}
		key = plain[:keySize]
		if !hmac.Equal(plain[keySize:], manifestMAC(key, a.manifest)) {
			return corrupt(a.path, "the manifest was changed after the backup was written")
		}
	}
	a.aead, err = chacha20poly1305.New(key)
	if err != nil {
		return corrupt(a.path, "bad file key")
	}
	sum := sha256.Sum256(a.manifest)
	a.ad = sum[:]
	return nil
}

func (a *ageFrames) next() ([]byte, error) {
	if a.aead == nil {
		if err := a.open(); err != nil {
			return nil, err
		}
	}
	ct, err := a.frame()
	if err != nil {
		return nil, err
	}
	a.n++
	member, err := a.aead.Open(ct[:0], nonce(a.n), ct, a.ad)
	if err != nil {
		return nil, corrupt(a.path, "batch %d does not authenticate: it was altered, replaced, moved or repeated, or the manifest was changed", a.n)
	}
	if a.gz == nil {
		a.gz, err = gzip.NewReader(bytes.NewReader(member))
	} else {
		err = a.gz.Reset(bytes.NewReader(member))
	}
	if err != nil {
		return nil, corrupt(a.path, "an encrypted batch is not gzip data (%v)", err)
	}
	a.gz.Multistream(false)
	b, err := readMember(a.path, a.gz)
	if errors.Is(err, errCut) {
		return nil, corrupt(a.path, "an encrypted batch is incomplete")
	}
	return b, err
}

// frame reads one frame's bytes: io.EOF at a clean end, errCut when the file ends inside it.
func (a *ageFrames) frame() ([]byte, error) {
	var hdr [8]byte
	n, err := io.ReadFull(a.br, hdr[:])
	switch {
	case n == 0 && err == io.EOF:
		return nil, io.EOF
	case err != nil:
		return nil, errCut
	case string(hdr[:4]) != frameMagic:
		return nil, corrupt(a.path, "not an encrypted frame where one should start")
	}
	size := binary.BigEndian.Uint32(hdr[4:])
	if size > maxFrame {
		return nil, corrupt(a.path, "an encrypted frame claims %d bytes", size)
	}
	ct := make([]byte, size)
	if _, err := io.ReadFull(a.br, ct); err != nil {
		return nil, errCut
	}
	return ct, nil
}

// ParseRecipient reads one recipient: an age X25519 public key (age1…) or an SSH public key
// (ssh-ed25519 …, ssh-rsa …).
func ParseRecipient(s string) (Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("age recipient %.12s…: %w", s, err)
		}
		return r, nil
	case strings.HasPrefix(s, "ssh-ed25519 "), strings.HasPrefix(s, "ssh-rsa "):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("SSH recipient %.20s…: %w", s, err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("%.20q is not an age public key (age1…) nor an ssh-ed25519 or ssh-rsa public key", s)
}

// ParseRecipientsFile reads a recipients file: one recipient a line; blank lines and # comments
// are skipped.
func ParseRecipientsFile(b []byte) ([]Recipient, error) {
	var out []Recipient
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := ParseRecipient(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errors.New("no recipient in it")
	}
	return out, nil
}

// ParseIdentities reads an identity file: age X25519 identities (AGE-SECRET-KEY-1…, one a line),
// or an SSH private key (ed25519 or RSA). A passphrase-protected SSH key asks passphrase, only
// when a frame needs it.
func ParseIdentities(b []byte, passphrase func() ([]byte, error)) ([]Identity, error) {
	if bytes.Contains(b, []byte("PRIVATE KEY-----")) {
		id, err := agessh.ParseIdentity(b)
		if err == nil {
			return []Identity{id}, nil
		}
		var pm *ssh.PassphraseMissingError
		if !errors.As(err, &pm) {
			return nil, fmt.Errorf("SSH private key: %w", err)
		}
		if pm.PublicKey == nil || passphrase == nil {
			return nil, errors.New("the SSH key is protected by a passphrase and there is no terminal to ask it on")
		}
		eid, err := agessh.NewEncryptedSSHIdentity(pm.PublicKey, b, passphrase)
		if err != nil {
			return nil, fmt.Errorf("SSH private key: %w", err)
		}
		return []Identity{eid}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not an age identity file nor an SSH private key: %w", err)
	}
	return ids, nil
}

// maxKeyFile bounds an identity or recipients file: keys are a few KiB; a FIFO or a device is
// refused, never read without end.
const maxKeyFile = 1 << 20

// ReadKeyFile reads an identity or recipients file: a regular file of at most 1 MiB (a pipe or
// a device is refused, never read without end).
func ReadKeyFile(path string) ([]byte, error) { return boundedfile.Read(path, maxKeyFile) }

// ParseRecipientValues reads recipients as --backup-recipient and the inventory give them: each
// value an age public key, an SSH public key, or the path of a recipients file (relative paths
// are resolved by resolve; nil keeps them as they are).
func ParseRecipientValues(values []string, resolve func(string) string) ([]Recipient, error) {
	var out []Recipient
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if strings.HasPrefix(v, "age1") || strings.HasPrefix(v, "ssh-") {
			r, err := ParseRecipient(v)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
			continue
		}
		if resolve != nil {
			v = resolve(v)
		}
		b, err := ReadKeyFile(v)
		if err != nil {
			return nil, fmt.Errorf("recipients file: %w", err)
		}
		rs, err := ParseRecipientsFile(b)
		if err != nil {
			return nil, fmt.Errorf("recipients file %s: %w", v, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}
