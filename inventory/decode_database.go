package inventory

import "go.yaml.in/yaml/v3"

// DatabaseFromStatefulSet is database.from's one value.
const DatabaseFromStatefulSet = "statefulset"

// databaseFrom reads database.from and user_env/user_file (kept apart from the rest of the
// database block, which predates them).
func (d *decoder) databaseFrom(df map[string]*yaml.Node, line int, db *Database) error {
	var err error
	if db.From, err = d.str(df["from"], "from"); err != nil {
		return err
	}
	if db.UserRef, err = d.secretRef(df, "user", line); err != nil {
		return err
	}
	if db.User != "" && !db.UserRef.IsZero() {
		return d.err(db.UserRef.Line, "keep one of user, user_env and user_file", "database: both user and %s are set", userRefKey(db.UserRef))
	}
	switch db.From {
	case "":
	case DatabaseFromStatefulSet:
		if db.JDBCURL != "" {
			return d.err(df["jdbc_url"].Line, "remove jdbc_url: with from: statefulset the URL is the StatefulSet's env", "database: both from and jdbc_url are set")
		}
	default:
		return d.err(df["from"].Line, "write from: statefulset (the only source reauth reads), or remove it and give jdbc_url",
			"database.from: unknown value %q", db.From)
	}
	return nil
}

func userRefKey(r SecretRef) string {
	if r.Env != "" {
		return "user_env"
	}
	return "user_file"
}
