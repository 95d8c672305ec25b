package atlassian

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian/aescipher"
)

// The password cipher classes Atlassian's products ship (docs "Basic encryption", "AES
// encryption"). Older products name the db.config ciphers, newer ones the secrets.store ones.
const (
	Base64CipherClass      = "com.atlassian.db.config.password.ciphers.base64.Base64Cipher"
	Base64SecretStoreClass = "com.atlassian.secrets.store.base64.Base64SecretStore"
	AESCipherClass         = "com.atlassian.db.config.password.ciphers.algorithm.AlgorithmCipher"
	AESSecretStoreClass    = "com.atlassian.secrets.store.algorithm.AlgorithmSecretStore"
	// ATLSecured is what Jira 10.2+ and Bitbucket 9.2+ write in place of a password kept in their
	// own secret store.
	ATLSecured = "{ATL_SECURED}"
)

// EnvPassword is the environment variable that overrides any password found in a config.
const EnvPassword = "REAUTH_DB_PASSWORD"

// decodePassword turns a config's password field into the password, where it came from, and
// (when it cannot be decoded) a problem that says why and what to do. It never puts the
// password or the encoded field into the problem text.
func decodePassword(cipherClass, field string, present bool, getenv func(string) string) (pw reauth.Secret, source, problem string) {
	class := strings.TrimSpace(cipherClass)
	switch {
	case !present:
		return reauth.Secret{}, "none", ""
	case strings.TrimSpace(field) == ATLSecured:
		return reauth.Secret{}, "config (secured)", "the password is {ATL_SECURED}: it lives in the product's own " +
			"secret store, which reauth cannot read; set " + EnvPassword + " or enter it at the prompt"
	case class == "":
		return reauth.NewSecret(field), "config", ""
	case class == Base64CipherClass || class == Base64SecretStoreClass:
		s := strings.Join(strings.Fields(field), "")
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		}
		if err != nil {
			return reauth.Secret{}, "config (base64)", "the password field is not valid base64 although the config names " +
				class + "; fix the config or set " + EnvPassword
		}
		return reauth.NewSecret(string(b)), "config (base64)", ""
	case aescipher.Supports(class):
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		pw, err := aescipher.Decrypt(class, field, getenv)
		if err != nil {
			return reauth.Secret{}, "config (aes)", err.Error()
		}
		return reauth.NewSecret(pw), "config (aes)", ""
	}
	return reauth.Secret{}, "config (" + class + ")", fmt.Sprintf("the password is encrypted with %s, which reauth "+
		"does not know; set %s or enter it at the prompt", class, EnvPassword)
}

// PasswordEnv names the environment variables a database password may be read from:
// REAUTH_DB_PASSWORD and the official images' ATL_JDBC_PASSWORD / JDBC_PASSWORD.
func PasswordEnv() []string {
	names := []string{EnvPassword}
	seen := map[string]bool{}
	for _, p := range All() {
		if p.EnvJDBCPrefix != "" && !seen[p.EnvJDBCPrefix] {
			seen[p.EnvJDBCPrefix] = true
			names = append(names, p.EnvJDBCPrefix+"PASSWORD")
		}
	}
	return names
}

// ResolvePassword applies the password override: REAUTH_DB_PASSWORD (getenv) wins; else the
// decoded config password; else, when the config password could not be decoded (PasswordProblem)
// or is absent, prompt (nil when there is no terminal) is asked; else a refusal (exit 4) that says
// to set REAUTH_DB_PASSWORD. An empty password written in the config counts as a password (trust
// or ident authentication); an absent one does not.
func ResolvePassword(db *reauth.Database, getenv func(string) string, prompt func(string) (string, error)) error {
	if db == nil {
		return reauth.Usage("", "no database to resolve a password for")
	}
	if getenv != nil {
		if v := getenv(EnvPassword); v != "" {
			db.Password, db.PasswordSource, db.PasswordProblem = reauth.NewSecret(v), "env "+EnvPassword, ""
			return nil
		}
	}
	if db.PasswordProblem == "" && db.PasswordSource != "" && db.PasswordSource != "none" {
		return nil
	}
	if db.Engine == reauth.SQLite { // a file: there is no password to ask for
		db.PasswordSource = "none"
		return nil
	}
	why := db.PasswordProblem
	if why == "" {
		why = "no password is configured"
	}
	if prompt != nil {
		v, err := prompt(fmt.Sprintf("Database password for %s (%s): ", db.String(), why))
		if err != nil {
			return reauth.Refused("set "+EnvPassword+" to the database password", "read the database password: %v", err)
		}
		db.Password, db.PasswordSource, db.PasswordProblem = reauth.NewSecret(v), "prompt", ""
		return nil
	}
	return reauth.Refused("set "+EnvPassword+" to the database password (or run reauth on a terminal to be asked for it)",
		"no usable database password for %s: %s", db.String(), why)
}
