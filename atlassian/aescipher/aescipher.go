// Package aescipher decrypts database passwords that Atlassian's "advanced encryption" (AES)
// sealed: a Java-serialized javax.crypto.SealedObject and SecretKeySpec, read without a JVM.
//
// The products (Jira, Confluence, Bitbucket, Bamboo, Crowd) name one of the cipher classes below in
// their config and put a JSON object in the password field: {"sealedObjectFilePath": …,
// "keyFilePath": …} or {"serializedSealedObject": <base64>, "keyFilePath": …}. Paths left out of the
// JSON come from environment variables named after the Java classes. The sealed object holds the
// password as a serialized java.lang.String, encrypted with AES (or DES, DESede) in CBC mode; its
// IV travels inside the sealed object.
package aescipher

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The cipher classes Decrypt handles. Newer products name the secrets-store classes; older ones
// the db.config ones, which the products map onto the same code.
const (
	ClassAlgorithmCipher             = "com.atlassian.db.config.password.ciphers.algorithm.AlgorithmCipher"
	ClassAesOnlyAlgorithmCipher      = "com.atlassian.db.config.password.ciphers.algorithm.AesOnlyAlgorithmCipher"
	ClassAlgorithmSecretStore        = "com.atlassian.secrets.store.algorithm.AlgorithmSecretStore"
	ClassAesOnlyAlgorithmSecretStore = "com.atlassian.secrets.store.algorithm.AesOnlyAlgorithmSecretStore" // Crowd's default
)

// The environment variables that carry the file paths when the JSON leaves them out. Atlassian
// derives them from the old package name plus the Java class name, dots made underscores, and both
// class families read the same ones.
const (
	EnvSealedObject  = "com_atlassian_db_config_password_ciphers_algorithm_javax_crypto_SealedObject"
	EnvSecretKeySpec = "com_atlassian_db_config_password_ciphers_algorithm_javax_crypto_spec_SecretKeySpec"
)

// Supports reports whether cipherClass is one of the AES classes Decrypt handles.
func Supports(cipherClass string) bool {
	_, ok := classify(cipherClass)
	return ok
}

// classify says whether cipherClass is supported and whether it allows AES alone. Crowd's AES-only
// store has moved between packages across versions, so any package is accepted for the AesOnly…
// simple names.
func classify(cipherClass string) (aesOnly, ok bool) {
	class := strings.TrimSpace(cipherClass)
	if aesOnly, ok := classes[class]; ok {
		return aesOnly, true
	}
	if strings.HasSuffix(class, ".AesOnlyAlgorithmSecretStore") || strings.HasSuffix(class, ".AesOnlyAlgorithmCipher") {
		return true, true
	}
	return false, false
}

// classes maps each supported class to whether it allows AES alone.
var classes = map[string]bool{
	ClassAlgorithmCipher:             false,
	ClassAlgorithmSecretStore:        false,
	ClassAesOnlyAlgorithmCipher:      true,
	ClassAesOnlyAlgorithmSecretStore: true,
}

// passwordField is the JSON the products keep in the password field (gson's field names). Other
// keys ("algorithm", "algorithmKey") may be present and, as in the products, are ignored: the
// sealed object says how it was sealed.
type passwordField struct {
	SealedObjectFilePath   *string `json:"sealedObjectFilePath"`
	KeyFilePath            *string `json:"keyFilePath"`
	SerializedSealedObject *string `json:"serializedSealedObject"`
}

// Decrypt decodes the password field of a config that uses one of the AlgorithmCipher /
// AlgorithmSecretStore classes: field is the JSON held in the password field
// ({"sealedObjectFilePath": …, "keyFilePath": …, "algorithm": …} or {"serializedSealedObject": …}),
// getenv reads the env vars that may carry the file paths. The returned error never contains the
// password.
func Decrypt(cipherClass, field string, getenv func(string) string) (string, error) {
	class := strings.TrimSpace(cipherClass)
	aesOnly, ok := classify(class)
	if !ok {
		return "", errorf(ErrUnsupported, "cipher class %q is not supported: reauth decrypts only Atlassian's AlgorithmCipher/AlgorithmSecretStore (AES) classes; set REAUTH_DB_PASSWORD instead", class)
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	pf, err := parseField(field, class)
	if err != nil {
		return "", err
	}

	var sealedBytes []byte
	var sealedWhat string
	if pf.SerializedSealedObject != nil && *pf.SerializedSealedObject != "" {
		// Java's Base64.getDecoder(): standard alphabet, padded, no line breaks.
		sealedBytes, err = base64.StdEncoding.Strict().DecodeString(*pf.SerializedSealedObject)
		if err != nil {
			var ce base64.CorruptInputError
			at := ""
			if errors.As(err, &ce) {
				at = fmt.Sprintf(" at character %d", int64(ce))
			}
			return "", errorf(ErrForeign, "serializedSealedObject in the password field is not valid base64%s: copy it again from the encryption tool's output", at)
		}
		sealedWhat = "serializedSealedObject in the password field"
	} else {
		path, src, err := pathFrom(pf.SealedObjectFilePath, "sealedObjectFilePath (nor serializedSealedObject)", EnvSealedObject, getenv, "sealed object")
		if err != nil {
			return "", err
		}
		sealedWhat = fmt.Sprintf("sealed object file %q (from %s)", path, src)
		if sealedBytes, err = readLimited(path, src, "sealed object", maxSealedFile); err != nil {
			return "", err
		}
	}
	keyPath, keySrc, err := pathFrom(pf.KeyFilePath, "keyFilePath", EnvSecretKeySpec, getenv, "key")
	if err != nil {
		return "", err
	}
	keyBytes, err := readLimited(keyPath, keySrc, "key", maxKeyFile)
	if err != nil {
		return "", err
	}
	defer clear(keyBytes)
	keyWhat := fmt.Sprintf("key file %q (from %s)", keyPath, keySrc)

	sealed, err := parseSealedObject(sealedBytes, sealedWhat)
	if err != nil {
		return "", fmt.Errorf("%w; it should be the javax.crypto.SealedObject_<time> file the encryption tool wrote", err)
	}
	key, err := parseSecretKey(keyBytes, keyWhat)
	if err != nil {
		return "", fmt.Errorf("%w; it should be the javax.crypto.spec.SecretKeySpec_<time> file the encryption tool wrote", err)
	}
	pw, err := open(sealed, key, aesOnly)
	if err != nil {
		hint := ""
		if errors.Is(err, ErrKeyMismatch) {
			hint = "; use the SecretKeySpec file made together with this sealed password, or set REAUTH_DB_PASSWORD"
		} else if errors.Is(err, ErrUnsupported) {
			hint = "; set REAUTH_DB_PASSWORD instead"
		}
		return "", fmt.Errorf("decrypt the database password from %s with %s: %w%s", sealedWhat, keyWhat, err, hint)
	}
	return pw, nil
}

// parseField decodes the password field's JSON. Its text never goes into an error: a field that
// is not JSON may be a plain password left under an AES cipher class.
func parseField(field, class string) (passwordField, error) {
	var pf passwordField
	example := `{"sealedObjectFilePath": "/path/javax.crypto.SealedObject_…", "keyFilePath": "/path/javax.crypto.spec.SecretKeySpec_…"}`
	trimmed := strings.TrimSpace(field)
	if trimmed == "" {
		return pf, errorf(ErrForeign, "the password field is empty, but cipher class %s needs the JSON the encryption tool printed, e.g. %s", class, example)
	}
	if !strings.HasPrefix(trimmed, "{") {
		return pf, errorf(ErrForeign, "the password field is not a JSON object, but cipher class %s needs the JSON the encryption tool printed, e.g. %s", class, example)
	}
	if err := json.Unmarshal([]byte(trimmed), &pf); err != nil {
		detail := "it is not valid JSON"
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			detail = fmt.Sprintf("it is not valid JSON (error at byte %d)", se.Offset)
		case errors.As(err, &te):
			detail = fmt.Sprintf("its %q is a JSON %s, not a string", te.Field, te.Value)
		}
		return pf, errorf(ErrForeign, "the password field for cipher class %s: %s; it should look like %s", class, detail, example)
	}
	return pf, nil
}

// pathFrom picks a file path from the JSON, else from the environment variable, as the products do.
// It returns the path and where it came from (for errors).
func pathFrom(fromJSON *string, jsonName, envName string, getenv func(string) string, what string) (path, src string, err error) {
	if fromJSON != nil && *fromJSON != "" {
		return *fromJSON, strings.Fields(jsonName)[0] + " in the password field", nil
	}
	if v := getenv(envName); v != "" {
		return v, "environment variable " + envName, nil
	}
	return "", "", fmt.Errorf("no %s file: the password field has no %s and environment variable %s is not set; put the path the encryption tool printed into the JSON", what, jsonName, envName)
}
