package atlassian

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// pkcs5s2Prefix marks Atlassian's PasswordEncoder hash: base64 of a 16-byte salt then the
// 32-byte PBKDF2-HMAC-SHA1 of the secret, 10,000 rounds (passlib's atlassian_pbkdf2_sha1).
const pkcs5s2Prefix = "{PKCS5S2}"

const pkcs5s2Rounds = 10000

// HashPKCS5S2 hashes secret as Atlassian's PasswordEncoder does, with a fresh random salt.
func HashPKCS5S2(secret string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash: read random salt: %w", err)
	}
	return hashPKCS5S2(secret, salt)
}

func hashPKCS5S2(secret string, salt []byte) (string, error) {
	key, err := pbkdf2.Key(sha1.New, secret, salt, pkcs5s2Rounds, 32)
	if err != nil {
		return "", fmt.Errorf("hash: %w", err)
	}
	return pkcs5s2Prefix + base64.StdEncoding.EncodeToString(append(append([]byte{}, salt...), key...)), nil
}

// CheckPKCS5S2 reports whether secret matches hash ({PKCS5S2}…); a malformed hash matches nothing.
func CheckPKCS5S2(hash, secret string) bool {
	b64, ok := strings.CutPrefix(hash, pkcs5s2Prefix)
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 48 {
		return false
	}
	want, err := hashPKCS5S2(secret, raw[:16])
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(hash)) == 1
}
