package aescipher

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// files returns the sealed object and key paths of a committed vector.
func files(t *testing.T, name string) (sealed, key string) {
	t.Helper()
	dir := filepath.Join("testdata", "vectors", name)
	s, _ := filepath.Glob(filepath.Join(dir, "javax.crypto.SealedObject_*"))
	k, _ := filepath.Glob(filepath.Join(dir, "javax.crypto.spec.SecretKeySpec_*"))
	if len(s) != 1 || len(k) != 1 {
		t.Fatalf("vector %s: want one sealed and one key file", name)
	}
	return s[0], k[0]
}

func fieldJSON(t *testing.T, m map[string]string) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFile writes b into a fresh temp dir under name and returns its path.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// secrets are every committed password and key, which no error may print.
func secrets(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, v := range loadVectors(t, filepath.Join("testdata", "vectors")) {
		out = append(out, v.expected)
		keys, _ := filepath.Glob(filepath.Join(v.dir, "javax.crypto.spec.SecretKeySpec_*"))
		key := keys[0]
		k, err := parseSecretKey(mustRead(t, key), key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(k.key), base64.StdEncoding.EncodeToString(k.key))
	}
	return out
}

func TestDecryptErrors(t *testing.T) {
	asciiSealed, asciiKey := files(t, "aes-ascii")
	_, unicodeKey := files(t, "aes-unicode")
	_, desedeKey := files(t, "desede")
	desSealed, desKey := files(t, "des")
	foreign := filepath.Join("testdata", "vectors", "foreign")

	sealedBytes := mustRead(t, asciiSealed)
	truncated := writeFile(t, "javax.crypto.SealedObject_1", sealedBytes[:len(sealedBytes)-20])
	truncatedKey := writeFile(t, "javax.crypto.spec.SecretKeySpec_1", mustRead(t, asciiKey)[:60])
	// Same length, another mode: what a hand-edited or foreign tool's file would say.
	ecb := writeFile(t, "javax.crypto.SealedObject_2", bytes.Replace(sealedBytes, []byte("AES/CBC/"), []byte("AES/ECB/"), 1))
	// The last ciphertext byte flipped: the padding (or the stream inside) no longer checks out.
	flipped := bytes.Clone(sealedBytes)
	flipped[bytes.Index(flipped, []byte("t\x00\x03AES"))-1] ^= 0x5a
	damaged := writeFile(t, "javax.crypto.SealedObject_3", flipped)
	big := filepath.Join(t.TempDir(), "javax.crypto.spec.SecretKeySpec_big")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, maxKeyFile+1); err != nil {
		t.Fatal(err)
	}

	fifo := filepath.Join(t.TempDir(), "javax.crypto.spec.SecretKeySpec_fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		class  string
		field  string
		env    map[string]string
		is     error
		saying []string
	}{
		{name: "wrong key file", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": unicodeKey}),
			is: ErrKeyMismatch, saying: []string{"the key file does not match the sealed password", unicodeKey, asciiSealed, "REAUTH_DB_PASSWORD"}},
		{name: "key of another algorithm", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": desedeKey}),
			is: ErrKeyMismatch, saying: []string{`holds a "DESede" key`, "sealed with AES"}},
		{name: "DES key for a DES password from another vector", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": desSealed, "keyFilePath": desedeKey}),
			is: ErrKeyMismatch},
		{name: "damaged ciphertext", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": damaged, "keyFilePath": asciiKey}),
			is: ErrKeyMismatch, saying: []string{"does not match"}},
		{name: "missing key file", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": "/nonexistent/javax.crypto.spec.SecretKeySpec_1"}),
			is: fs.ErrNotExist, saying: []string{`key file "/nonexistent/javax.crypto.spec.SecretKeySpec_1"`, "does not exist", "keyFilePath"}},
		{name: "relative key path", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": "javax.crypto.spec.SecretKeySpec_1"}),
			is: fs.ErrNotExist, saying: []string{"working directory", "absolute path"}},
		{name: "key path is a directory", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": t.TempDir()}),
			saying: []string{"is a directory"}},
		{name: "key file too large", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": big}),
			saying: []string{"too large", big}},
		{name: "key path is a FIFO", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": fifo}),
			saying: []string{"named pipe", fifo}},
		{name: "sealed object is /dev/zero", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": "/dev/zero", "keyFilePath": asciiKey}),
			saying: []string{"character device", "/dev/zero"}},
		{name: "missing sealed file from env", field: fieldJSON(t, map[string]string{"keyFilePath": asciiKey}),
			env: map[string]string{EnvSealedObject: "/nonexistent/sealed"}, is: fs.ErrNotExist, saying: []string{"/nonexistent/sealed", "environment variable " + EnvSealedObject}},
		{name: "no key path anywhere", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed}),
			saying: []string{"no key file", "keyFilePath", EnvSecretKeySpec}},
		{name: "no sealed object anywhere", field: `{"keyFilePath":"x"}`,
			saying: []string{"no sealed object file", "serializedSealedObject", EnvSealedObject}},
		{name: "truncated sealed object", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": truncated, "keyFilePath": asciiKey}),
			is: ErrForeign, saying: []string{"truncated", "at byte", truncated}},
		{name: "truncated key file", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": truncatedKey}),
			is: ErrForeign, saying: []string{"truncated", "at byte", "SecretKeySpec"}},
		{name: "HashMap as sealed object", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": filepath.Join(foreign, "java.util.HashMap.ser"), "keyFilePath": asciiKey}),
			is: ErrForeign, saying: []string{"holds a java.util.HashMap, not a javax.crypto.SealedObject"}},
		{name: "String as key", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiSealed, "keyFilePath": filepath.Join(foreign, "java.lang.String.ser")}),
			is: ErrForeign, saying: []string{"holds a java.lang.String", "javax.crypto.spec.SecretKeySpec"}},
		{name: "files swapped", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": asciiKey, "keyFilePath": asciiSealed}),
			is: ErrForeign, saying: []string{"holds a javax.crypto.spec.SecretKeySpec, not a javax.crypto.SealedObject"}},
		{name: "not serialization at all", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": filepath.Join("testdata", "Generate.java"), "keyFilePath": asciiKey}),
			is: ErrForeign, saying: []string{"AC ED 00 05"}},
		{name: "sealed HashMap", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": filepath.Join(foreign, "sealed-hashmap.ser"), "keyFilePath": filepath.Join(foreign, "sealed-hashmap.key")}),
			is: ErrForeign, saying: []string{"holds a java.util.HashMap, not a String password"}},
		{name: "ECB mode", field: fieldJSON(t, map[string]string{"sealedObjectFilePath": ecb, "keyFilePath": asciiKey}),
			is: ErrUnsupported, saying: []string{`"AES/ECB/PKCS5PADDING"`, "CBC", "REAUTH_DB_PASSWORD"}},
		{name: "DES under the AES-only class", class: ClassAesOnlyAlgorithmSecretStore, field: fieldJSON(t, map[string]string{"sealedObjectFilePath": desSealed, "keyFilePath": desKey}),
			is: ErrUnsupported, saying: []string{"AES-only"}},
		{name: "unknown cipher class", class: "com.example.VaultCipher", field: `{}`,
			is: ErrUnsupported, saying: []string{"com.example.VaultCipher", "REAUTH_DB_PASSWORD"}},
		{name: "plain password under an AES class", field: "Jira-db-pass_42",
			is: ErrForeign, saying: []string{"not a JSON object"}},
		{name: "broken JSON", field: `{"keyFilePath": Jira-db-pass_42}`,
			is: ErrForeign, saying: []string{"not valid JSON (error at byte"}},
		{name: "path of the wrong JSON type", field: `{"keyFilePath": 42}`,
			is: ErrForeign, saying: []string{`"keyFilePath" is a JSON number`}},
		{name: "empty field", field: "  ",
			is: ErrForeign, saying: []string{"is empty"}},
		{name: "bad base64", field: fieldJSON(t, map[string]string{"serializedSealedObject": "rO0AB!!!", "keyFilePath": asciiKey}),
			is: ErrForeign, saying: []string{"not valid base64 at character 5"}},
	}
	never := secrets(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			class := c.class
			if class == "" {
				class = ClassAlgorithmSecretStore
			}
			got, err := Decrypt(class, c.field, func(k string) string { return c.env[k] })
			if err == nil {
				t.Fatalf("no error (decrypted %d bytes)", len(got))
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error is not %v: %v", c.is, err)
			}
			msg := err.Error()
			t.Log(msg)
			for _, s := range c.saying {
				if !strings.Contains(msg, s) {
					t.Errorf("error does not say %q: %s", s, msg)
				}
			}
			for _, s := range never {
				if strings.Contains(msg, s) {
					t.Fatalf("error contains a password or key: %s", msg)
				}
			}
		})
	}
}

// TestEnvPaths: paths left out of the JSON come from the environment variables, and paths in the
// JSON win over them, as in the products.
func TestEnvPaths(t *testing.T) {
	sealed, key := files(t, "aes-ascii")
	want := string(mustRead(t, filepath.Join("testdata", "vectors", "aes-ascii", "expected.txt")))
	_, otherKey := files(t, "aes-unicode")
	cases := []struct {
		name  string
		field string
		env   map[string]string
	}{
		{"both from env", `{}`, map[string]string{EnvSealedObject: sealed, EnvSecretKeySpec: key}},
		{"key from env", fieldJSON(t, map[string]string{"sealedObjectFilePath": sealed}), map[string]string{EnvSecretKeySpec: key}},
		{"JSON wins over env", fieldJSON(t, map[string]string{"sealedObjectFilePath": sealed, "keyFilePath": key}),
			map[string]string{EnvSealedObject: "/nonexistent", EnvSecretKeySpec: otherKey}},
		{"serializedSealedObject wins over a path", fieldJSON(t, map[string]string{
			"serializedSealedObject": base64.StdEncoding.EncodeToString(mustRead(t, sealed)), "sealedObjectFilePath": "/nonexistent", "keyFilePath": key}), nil},
		{"null fields and unknown keys", `{"sealedObjectFilePath":null,"keyFilePath":"` + key + `","algorithm":"AES/CBC/PKCS5PADDING","algorithmKey":"AES"}`,
			map[string]string{EnvSealedObject: sealed}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Decrypt(" "+ClassAlgorithmCipher+"\n", c.field, func(k string) string { return c.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("got a %d-byte password, want %d bytes", len(got), len(want))
			}
		})
	}
}

// TestPermissionMessage: root reads every file, so the permission-denied message is checked on
// the error an unprivileged user gets from open(2).
func TestPermissionMessage(t *testing.T) {
	p := writeFile(t, "javax.crypto.spec.SecretKeySpec_1", []byte("x"))
	if err := os.Chmod(p, 0o400); err != nil {
		t.Fatal(err)
	}
	err := fileError(p, "keyFilePath in the password field", "key", &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission})
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("not ErrPermission: %v", err)
	}
	for _, s := range []string{p, "permission denied", "mode 0400", "owner uid", "reauth runs as uid", "grant it read access"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not say %q: %v", s, err)
		}
	}
}

func TestSupports(t *testing.T) {
	for class, want := range map[string]bool{
		ClassAlgorithmCipher: true, ClassAesOnlyAlgorithmCipher: true, ClassAlgorithmSecretStore: true,
		ClassAesOnlyAlgorithmSecretStore: true, " " + ClassAlgorithmSecretStore + " ": true,
		"com.atlassian.crowd.secrets.AesOnlyAlgorithmSecretStore": true, // Crowd's store, in another package
		"com.atlassian.secrets.store.base64.Base64SecretStore":    false, "": false, "AesOnlyAlgorithmSecretStore": false,
	} {
		if got := Supports(class); got != want {
			t.Errorf("Supports(%q) = %v, want %v", class, got, want)
		}
	}
}
