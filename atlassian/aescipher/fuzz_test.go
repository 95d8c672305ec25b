package aescipher

import (
	"os"
	"path/filepath"
	"testing"
)

// seedStreams adds every committed vector and foreign stream to the corpus.
func seedStreams(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "vectors", "*", "*"))
	for _, p := range paths {
		if filepath.Ext(p) == ".json" || filepath.Ext(p) == ".txt" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 4096 { // the 70 KB long-string vector would only slow the mutator down
			f.Add(b)
		}
	}
}

// FuzzReadStream: hostile bytes never panic the stream reader, nor make it hold more than a few
// times their size (the limits are checked before anything is allocated).
func FuzzReadStream(f *testing.F) {
	seedStreams(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = readStream(b)
		_, _ = parseSealedObject(b, "fuzz")
		_, _ = parseSecretKey(b, "fuzz")
	})
}

// FuzzOpenSealed: a mutated sealed object, opened with a real key, never panics and never
// yields a password unless it still decrypts to a String.
func FuzzOpenSealed(f *testing.F) {
	seedStreams(f)
	keys, _ := filepath.Glob(filepath.Join("testdata", "vectors", "aes-ascii", "javax.crypto.spec.SecretKeySpec_*"))
	if len(keys) != 1 {
		f.Fatal("no aes-ascii key")
	}
	kb, err := os.ReadFile(keys[0])
	if err != nil {
		f.Fatal(err)
	}
	key, err := parseSecretKey(kb, keys[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSealedObject(b, "fuzz")
		if err != nil {
			return
		}
		_, _ = open(s, key, false)
		_, _ = open(s, key, true)
	})
}
