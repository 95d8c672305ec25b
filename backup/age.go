package backup

import (
	"bufio"
	"bytes"
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
	"golang.org/x/crypto/ssh"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/internal/boundedfile"
)

// An encrypted backup (manifest.encryption "age") is the clear gzip member of the manifest (so
// that inspect and restore --dry-run show it without a key), then frames: "rage", a 4-byte
// big-endian length, and that many bytes of one complete age file. Each frame is written whole
// and fsynced before the delete of its rows commits: age's STREAM cipher only authenticates a
// chunk when it is complete, and a 64 KiB chunk left open across batches would hold rows the
// database no longer has. One age file per batch costs a header (one X25519 or RSA wrap per
// recipient), small next to the batch's fsync.
//
// Frame 0 holds a random 32-byte file secret K and HMAC-SHA256(K, manifest line). Frame i > 0
// holds tag_i = HMAC(K, tag_{i-1} || member_i) and then member_i, the gzip member a clear backup
// would hold at that place (a batch of rows, or the trailer). Someone who can write the file but
// holds no identity cannot read K, so cannot edit the manifest, nor replace, reorder, drop or
// repeat a frame without the chain breaking. (age has no sender signature: someone with write
// access and the recipients' public keys could still forge a whole new file. Restore refuses rows
// outside the manifest's cut-off and filters, and the report and audit log name the sha256.)

// Identity decrypts backups (an age X25519 identity or an SSH private key).
type Identity = age.Identity

// Recipient is someone a backup is encrypted to.
type Recipient = age.Recipient

const (
	encryptionAge = "age"
	frameMagic    = "rage"
	keySize       = 32
	maxFrame      = maxMember
)

// sealer encrypts a writer's members into frames.
type sealer struct {
	rcpts []Recipient
	key   []byte
	tag   []byte
}

func newSealer(rcpts []Recipient, manifestLine []byte) (*sealer, []byte, error) {
	s := &sealer{rcpts: rcpts, key: make([]byte, keySize)}
	if _, err := rand.Read(s.key); err != nil {
		return nil, nil, err
	}
	s.tag = s.mac([]byte("manifest"), manifestLine)
	first, err := s.frame(append(append([]byte(nil), s.key...), s.tag...))
	return s, first, err
}

func (s *sealer) mac(parts ...[]byte) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// seal returns the frame of member: the next tag of the chain, then the member, encrypted.
func (s *sealer) seal(member []byte) ([]byte, error) {
	tag := s.mac(s.tag, member)
	f, err := s.frame(append(append(make([]byte, 0, len(tag)+len(member)), tag...), member...))
	if err == nil {
		s.tag = tag
	}
	return f, err
}

func (s *sealer) frame(plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(frameMagic)
	buf.Write([]byte{0, 0, 0, 0})
	ew, err := age.Encrypt(&buf, s.rcpts...)
	if err != nil {
		return nil, fmt.Errorf("encrypt backup batch: %w", err)
	}
	if _, err := ew.Write(plain); err != nil {
		return nil, fmt.Errorf("encrypt backup batch: %w", err)
	}
	if err := ew.Close(); err != nil {
		return nil, fmt.Errorf("encrypt backup batch: %w", err)
	}
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[len(frameMagic):], uint32(len(b)-8))
	return b, nil
}

// ageFrames reads and authenticates an encrypted backup's frames.
type ageFrames struct {
	path     string
	br       *bufio.Reader
	ids      []Identity
	manifest []byte
	key, tag []byte
	gz       *gzip.Reader
}

// ErrNoIdentity is wrapped by the refusal to read an encrypted backup's rows without an identity.
var ErrNoIdentity = errors.New("backup is encrypted")

func (a *ageFrames) next() ([]byte, error) {
	if len(a.ids) == 0 {
		return nil, reauth.Refused("give --identity FILE: the age identity or SSH private key of one of the backup's recipients",
			"%w: %s", ErrNoIdentity, a.path)
	}
	if a.key == nil {
		plain, err := a.frame()
		if err == io.EOF {
			return nil, errCut
		}
		if err != nil {
			return nil, err
		}
		if len(plain) != 2*keySize {
			return nil, corrupt(a.path, "the first encrypted frame is not a file key")
		}
		a.key, a.tag = plain[:keySize], plain[keySize:]
		if !hmac.Equal(a.tag, (&sealer{key: a.key}).mac([]byte("manifest"), a.manifest)) {
			return nil, corrupt(a.path, "the manifest was changed after the backup was written")
		}
	}
	plain, err := a.frame()
	if err != nil {
		return nil, err
	}
	if len(plain) < sha256.Size {
		return nil, corrupt(a.path, "an encrypted frame is too short")
	}
	tag, member := plain[:sha256.Size], plain[sha256.Size:]
	if !hmac.Equal(tag, (&sealer{key: a.key}).mac(a.tag, member)) {
		return nil, corrupt(a.path, "a batch was replaced, moved or repeated")
	}
	a.tag = tag
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

// frame reads and decrypts one frame: io.EOF at a clean end, errCut when the file ends inside it.
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
	dr, err := age.Decrypt(bytes.NewReader(ct), a.ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, reauth.Refused("give --identity the key of one of the recipients the backup was encrypted to",
				"backup %s: none of the identities given decrypts it", a.path)
		}
		return nil, corrupt(a.path, "an encrypted frame does not decrypt (%v)", err)
	}
	plain, err := io.ReadAll(io.LimitReader(dr, maxFrame))
	if err != nil {
		return nil, corrupt(a.path, "an encrypted frame was altered (%v)", err)
	}
	return plain, nil
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
