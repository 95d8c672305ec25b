package backup

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"
	"golang.org/x/crypto/ssh"

	"github.com/reauth/reauth"
)

// keyPair is a recipient line and the identity file that decrypts for it.
type keyPair struct{ recipient, identity string }

func ageKey(t *testing.T) keyPair {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{id.Recipient().String(), id.String() + "\n"}
}

func sshKey(t *testing.T, rsaKey bool, passphrase string) keyPair {
	var priv any
	var pub ssh.PublicKey
	var err error
	if rsaKey {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		priv = k
		pub, err = ssh.NewPublicKey(&k.PublicKey)
	} else {
		p, k, _ := ed25519.GenerateKey(rand.Reader)
		priv = k
		pub, err = ssh.NewPublicKey(p)
	}
	if err != nil {
		t.Fatal(err)
	}
	var blk *pem.Block
	if passphrase != "" {
		blk, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	} else {
		blk, err = ssh.MarshalPrivateKey(priv, "")
	}
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{string(bytes.TrimSpace(ssh.MarshalAuthorizedKey(pub))), string(pem.EncodeToMemory(blk))}
}

func writeEncrypted(t *testing.T, path string, k keyPair, close bool) {
	t.Helper()
	r, err := ParseRecipient(k.recipient)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, testManifest(), r)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range testRows() {
		if err := w.Append(row); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			w.Sync() // two batches: frames 1 and 2
		}
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if !close {
		w.f.Close()
		return
	}
	fl, _ := w.Follow()
	s, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	v, err := fl.Wait()
	if err != nil || v != s {
		t.Fatalf("verification while writing (through the encryption): %+v %v, want %+v", v, err, s)
	}
}

func ids(t *testing.T, k keyPair, pass string) []Identity {
	t.Helper()
	got, err := ParseIdentities([]byte(k.identity), func() ([]byte, error) { return []byte(pass), nil })
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestEncryptedRoundTrip(t *testing.T) {
	for name, k := range map[string]keyPair{"age": ageKey(t), "ssh-ed25519": sshKey(t, false, ""),
		"ssh-rsa": sshKey(t, true, ""), "ssh-ed25519 with passphrase": sshKey(t, false, "s3cret")} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "b.jsonl.gz")
			writeEncrypted(t, path, k, true)
			raw := mustRead(t, path)
			// Everything but the manifest member is frames; the manifest holds no row value.
			frames := splitFrames(t, raw)
			manifest := gunzip(t, raw[:len(raw)-totalLen(frames)])
			if bytes.Contains(raw, []byte("quote")) || bytes.Contains(manifest, []byte("quote")) || bytes.Contains(manifest, []byte("abc")) {
				t.Fatal("a token value is in clear in the encrypted file")
			}
			// The manifest reads without a key.
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if m := r.Manifest(); m.Encryption != "age" || m.CutoffID != 42 {
				t.Fatalf("manifest %+v", m)
			}
			if _, err := r.Next(); !errors.Is(err, ErrNoIdentity) || reauth.CodeOf(err) != reauth.ExitRefused {
				t.Fatalf("rows without identity: %v", err)
			}
			r.Close()
			r, err = OpenWith(path, ids(t, k, "s3cret"))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var n int
			for {
				_, err := r.Next()
				if err != nil {
					if err.Error() != "EOF" {
						t.Fatal(err)
					}
					break
				}
				n++
			}
			if n != 3 || r.Truncated() || r.Trailer() == nil {
				t.Fatalf("%d rows, truncated %v", n, r.Truncated())
			}
			if _, err := VerifyWith(path, ids(t, k, "s3cret")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEncryptedTamperRefused(t *testing.T) {
	dir := t.TempDir()
	k := ageKey(t)
	path := filepath.Join(dir, "b.jsonl.gz")
	writeEncrypted(t, path, k, true)
	full := mustRead(t, path)
	frames := splitFrames(t, full)
	manifestEnd := len(full) - totalLen(frames)
	flip := append([]byte(nil), full...)
	flip[len(flip)-40] ^= 1
	// An edited manifest (cut-off 42 → 43), re-gzipped: the chain's first tag no longer matches.
	plain := gunzip(t, full[:manifestEnd])
	editedManifest := gz(t, bytes.Replace(plain, []byte(`"cutoff_id":42`), []byte(`"cutoff_id":43`), 1))
	cases := map[string]struct {
		b       []byte
		id      keyPair
		refused bool // exit 4, as opposed to a corrupt file (restore refuses both)
	}{
		"flipped byte":       {b: flip, id: k},
		"edited manifest":    {b: append(editedManifest, full[manifestEnd:]...), id: k},
		"batches swapped":    {b: concat(full[:manifestEnd], frames[0], frames[2], frames[1], frames[3]), id: k},
		"batch repeated":     {b: concat(full[:manifestEnd], frames[0], frames[1], frames[1], frames[2], frames[3]), id: k},
		"wrong identity":     {b: full, id: ageKey(t), refused: true},
		"wrong ssh identity": {b: full, id: sshKey(t, false, ""), refused: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, tc.b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := VerifyWith(p, ids(t, tc.id, ""))
			if err == nil {
				t.Fatal("a tampered encrypted backup verified")
			}
			if tc.refused != (reauth.CodeOf(err) == reauth.ExitRefused) || (!tc.refused && !errors.Is(err, ErrCorrupt)) {
				t.Fatalf("%v (code %d)", err, reauth.CodeOf(err))
			}
		})
	}
	// Truncated: the trailer frame dropped, or the last frame cut.
	for _, cut := range []int{len(full) - len(frames[3]), len(full) - 10} {
		p := filepath.Join(dir, "cut")
		os.Remove(p)
		os.WriteFile(p, full[:cut], 0o600)
		if _, err := VerifyWith(p, ids(t, k, "")); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: %v, want ErrTruncated", cut, err)
		}
	}
}

// splitFrames returns the frames at the end of an encrypted file (key, batches, trailer).
func splitFrames(t *testing.T, b []byte) [][]byte {
	i := bytes.Index(b, []byte(frameMagic))
	var out [][]byte
	for i < len(b) {
		n := int(binary.BigEndian.Uint32(b[i+4:]))
		out = append(out, b[i:i+8+n])
		i += 8 + n
	}
	if len(out) != 4 {
		t.Fatalf("%d frames, want 4", len(out))
	}
	return out
}

func totalLen(bs [][]byte) (n int) {
	for _, b := range bs {
		n += len(b)
	}
	return n
}

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
