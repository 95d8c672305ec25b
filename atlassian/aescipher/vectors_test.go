package aescipher

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reauth/reauth/internal/testenv"
)

// vector is one directory written by testdata/Generate.java.
type vector struct {
	name, dir, field, expected string
	alg                        string // AES, DES or DESede, from the directory's key file
}

// loadVectors lists the vectors under root (every directory with a field.json).
func loadVectors(t *testing.T, root string) []vector {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var vs []vector
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		field, err := os.ReadFile(filepath.Join(dir, "field.json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		expected, err := os.ReadFile(filepath.Join(dir, "expected.txt"))
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := filepath.Glob(filepath.Join(dir, "javax.crypto.spec.SecretKeySpec_*"))
		if len(keys) != 1 {
			t.Fatalf("%s: want one key file, found %d", dir, len(keys))
		}
		b, err := os.ReadFile(keys[0])
		if err != nil {
			t.Fatal(err)
		}
		k, err := parseSecretKey(b, keys[0])
		if err != nil {
			t.Fatalf("%s: %v", keys[0], err)
		}
		vs = append(vs, vector{name: e.Name(), dir: dir, field: string(field), expected: string(expected), alg: canonicalAlg(k.algorithm)})
	}
	if len(vs) == 0 {
		t.Fatalf("no vectors under %s", root)
	}
	return vs
}

// checkVectors decrypts every vector under root with every class that allows its algorithm, and
// checks that the AES-only classes refuse the others.
func checkVectors(t *testing.T, root string) {
	t.Helper()
	for _, v := range loadVectors(t, root) {
		t.Run(v.name, func(t *testing.T) {
			for _, class := range []string{ClassAlgorithmSecretStore, ClassAlgorithmCipher, ClassAesOnlyAlgorithmSecretStore, ClassAesOnlyAlgorithmCipher, "com.atlassian.crowd.secrets.AesOnlyAlgorithmSecretStore"} {
				got, err := Decrypt(class, v.field, nil)
				if aesOnly, _ := classify(class); aesOnly && v.alg != "AES" {
					if !errors.Is(err, ErrUnsupported) {
						t.Errorf("%s: %s password: want ErrUnsupported, got %v", class, v.alg, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", class, err)
				}
				if got != v.expected {
					t.Fatalf("%s: decrypted password differs from expected.txt (%d vs %d bytes)", class, len(got), len(v.expected))
				}
			}
		})
	}
}

// TestVectors decrypts the committed vectors, made by the real JDK (BouncyCastle and SunJCE).
func TestVectors(t *testing.T) {
	checkVectors(t, filepath.Join("testdata", "vectors"))
}

// TestFreshVectors decrypts vectors made just now by the real JDK with random passwords: from
// $REAUTH_AES_VECTORS (.ci/aes-vectors.sh makes them), else, in CI or when java is here and -short
// is not given, made by this test. In CI it never skips: a missing JDK fails it.
func TestFreshVectors(t *testing.T) {
	if dir := os.Getenv("REAUTH_AES_VECTORS"); dir != "" {
		checkVectors(t, dir)
		return
	}
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("-short: set REAUTH_AES_VECTORS or run .ci/aes-vectors.sh")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		testenv.Missing(t, "java (a JDK, to make fresh AES vectors; .ci/services.sh installs it)")
	}
	dir := t.TempDir()
	args := []string{filepath.Join("testdata", "Generate.java"), "random", dir, "8"}
	if bc := "/usr/share/java/bcprov.jar"; fileExists(bc) {
		args = append([]string{"-cp", bc}, args...)
	}
	out, err := exec.Command(java, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("java Generate.java: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	checkVectors(t, dir)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
