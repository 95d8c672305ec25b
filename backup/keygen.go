package backup

import (
	"fmt"
	"time"

	"filippo.io/age"
)

// NewIdentity makes a new age X25519 identity for encrypting backups: the text of its identity
// file (in age-keygen's form, so that age and rage read it too) and its recipient (age1…), which
// is what the inventory's backup_recipients names. now dates the file's comment.
func NewIdentity(now time.Time) (file []byte, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, "", fmt.Errorf("generate an age identity: %w", err)
	}
	recipient = id.Recipient().String()
	file = fmt.Appendf(nil, "# created: %s by reauth backups keygen\n# public key: %s\n%s\n",
		now.UTC().Format(time.RFC3339), recipient, id.String())
	return file, recipient, nil
}
