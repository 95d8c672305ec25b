package sqlstore

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/backup"
)

// killOthers ends every session on the target's database but the caller's own: the purge's.
func killOthers(t *testing.T, tg target) int {
	t.Helper()
	switch tg.name {
	case "postgres":
		var n int
		if err := tg.sql.QueryRow("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() " +
			"AND application_name = 'reauth' AND pid <> pg_backend_pid()").Scan(&n); err != nil {
			t.Error(err)
		}
		return n
	case "mariadb":
		conn, err := tg.sql.Conn(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rows, err := conn.QueryContext(ctxT(t), "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()")
		if err != nil {
			t.Fatal(err)
		}
		var pids []int64
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			pids = append(pids, id)
		}
		rows.Close()
		for _, id := range pids {
			conn.ExecContext(ctxT(t), "KILL CONNECTION ?", id)
		}
		return len(pids)
	}
	t.Fatalf("no kill for %s", tg.name)
	return 0
}

func ageIdentity(t *testing.T) *age.X25519Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A connection killed in the middle of an encrypted purge: the encrypted backup holds every row
// that was deleted, and restores them all through the decryption, row for row.
func TestEncryptedBackupConnectionKilled(t *testing.T) {
	onServers(t, true, func(t *testing.T, tg target) {
		setupJira(t, tg, 400)
		table, idCol := tbl(tg)
		original := snapshot(t, tg.sql, table, idCol)
		s := openStore(t, tg, "jira", Options{})
		ctx := ctxT(t)
		id := ageIdentity(t)
		path := filepath.Join(t.TempDir(), "b")
		killed := 0
		res, err := s.Purge(ctx, PurgeOptions{BatchSize: 50, Workers: 1, BackupPath: path, BackupRecipients: []backup.Recipient{id.Recipient()},
			Progress: func(p PurgeProgress) {
				if p.Batches == 3 && killed == 0 {
					killed = killOthers(t, tg)
				}
			}})
		if err == nil || killed == 0 || res.Deleted == 0 {
			t.Fatalf("purge survived a killed connection (killed %d): %+v %v", killed, res, err)
		}
		left := len(snapshot(t, tg.sql, table, idCol))
		sum, err := backup.VerifyWith(path, []backup.Identity{id})
		if err != nil {
			t.Fatalf("encrypted backup after the failure: %v", err)
		}
		if int(sum.Rows) < 400-left {
			t.Fatalf("the backup holds %d rows, %d were deleted", sum.Rows, 400-left)
		}
		if _, err := s.Restore(ctx, path, RestoreOptions{}); reauth.CodeOf(err) != reauth.ExitRefused {
			t.Fatalf("restore of an encrypted backup without identity: %v, want a refusal", err)
		}
		rr, err := s.Restore(ctx, path, RestoreOptions{Identities: []backup.Identity{id}})
		if err != nil || rr.Restored != int64(400-left) {
			t.Fatalf("restore %+v %v, want %d restored", rr, err, 400-left)
		}
		equalSnapshots(t, "restored from the encrypted backup", original, snapshot(t, tg.sql, table, idCol))
	})
}

// Tampered encrypted backups are refused (exit 4) before anything is written: a flipped byte, a
// cut file, an edited manifest, a wrong identity.
func TestEncryptedBackupTamperRefused(t *testing.T) {
	onServers(t, true, func(t *testing.T, tg target) {
		setupJira(t, tg, 120)
		table, idCol := tbl(tg)
		s := openStore(t, tg, "jira", Options{})
		ctx := ctxT(t)
		id := ageIdentity(t)
		dir := t.TempDir()
		path := filepath.Join(dir, "b")
		if _, err := s.Purge(ctx, PurgeOptions{BatchSize: 40, BackupPath: path, BackupRecipients: []backup.Recipient{id.Recipient()}}); err != nil {
			t.Fatal(err)
		}
		purged := snapshot(t, tg.sql, table, idCol)
		full, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		first := bytes.Index(full, []byte("rage"))
		lastLen := 0
		for i := first; i < len(full); {
			n := 8 + int(binary.BigEndian.Uint32(full[i+4:]))
			lastLen, i = n, i+n
		}
		flip := append([]byte(nil), full...)
		flip[first+len(full[first:])/2] ^= 0x40
		edited := editManifest(t, full[:first], `"cutoff_id":120`, `"cutoff_id":999`)
		cases := map[string]struct {
			b      []byte
			id     *age.X25519Identity
			accept bool
		}{
			"flipped byte":             {b: flip, id: id},
			"cut inside a batch":       {b: full[:len(full)-lastLen-20], id: id},
			"trailer dropped":          {b: full[:len(full)-lastLen], id: id},
			"edited manifest":          {b: append(edited, full[first:]...), id: id},
			"edited manifest accepted": {b: append(edited, full[first:]...), id: id, accept: true},
			"wrong identity":           {b: full, id: ageIdentity(t)},
		}
		for name, c := range cases {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, c.b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := s.Restore(ctx, p, RestoreOptions{Identities: []backup.Identity{c.id}, AcceptTruncated: c.accept})
			if reauth.CodeOf(err) != reauth.ExitRefused {
				t.Errorf("%s: %v (code %d), want a refusal (exit 4)", name, err, reauth.CodeOf(err))
			}
			equalSnapshots(t, name+": nothing written", purged, snapshot(t, tg.sql, table, idCol))
		}
		// --accept-truncated: a file cut inside its last batch restores exactly the complete
		// batches before it (40 rows each), and says it was truncated.
		p := filepath.Join(dir, "cut-accepted")
		if err := os.WriteFile(p, full[:len(full)-lastLen-20], 0o600); err != nil {
			t.Fatal(err)
		}
		rr, err := s.Restore(ctx, p, RestoreOptions{Identities: []backup.Identity{id}, AcceptTruncated: true})
		if err != nil || !rr.Truncated || rr.Restored != 80 {
			t.Fatalf("restore --accept-truncated of a file cut inside its last batch: %+v %v, want the 80 rows of the 2 complete batches", rr, err)
		}
		if n := len(snapshot(t, tg.sql, table, idCol)); n != 80 {
			t.Fatalf("%d rows after the truncated restore, want 80", n)
		}
	})
}

// editManifest rewrites the clear manifest member with old replaced by new.
func editManifest(t *testing.T, member []byte, old, new string) []byte {
	t.Helper()
	plain := gunzipAll(t, member)
	if !bytes.Contains(plain, []byte(old)) {
		t.Fatalf("manifest lacks %s: %s", old, plain)
	}
	return gzipBytes(t, bytes.Replace(plain, []byte(old), []byte(new), 1))
}

func gunzipAll(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}
