// Package aescipher decrypts database passwords that Atlassian's "advanced encryption" (AES)
// sealed: a Java-serialized javax.crypto.SealedObject and SecretKeySpec, read without a JVM.
package aescipher

import "errors"

// Decrypt decodes the password field of a config that uses one of the AlgorithmCipher /
// AlgorithmSecretStore classes: field is the JSON held in the password field
// ({"sealedObjectFilePath": …, "keyFilePath": …, "algorithm": …} or {"serializedSealedObject": …}),
// getenv reads the env vars that may carry the file paths. The returned error never contains the
// password.
func Decrypt(cipherClass, field string, getenv func(string) string) (string, error) {
	return "", errors.New("AES-encrypted database passwords are not supported yet: set REAUTH_DB_PASSWORD")
}
