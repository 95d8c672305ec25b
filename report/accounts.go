package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/backup"
)

// AccountCount is one account whose remember-me tokens the run deleted, and how many.
type AccountCount struct {
	Product, User string
	Tokens        int64
}

// Accounts lists every account the run's purge affected, read from its backups (the audit log
// names only the top users): the product's user column, as stored (a login name, or a user key
// or id where the product stores that). An encrypted backup needs ids; a backup that cannot be
// read is a problem, said, and the list is then incomplete.
func Accounts(r *Report, ids []backup.Identity) (accounts []AccountCount, problems []string) {
	for _, p := range r.Products {
		counts := map[string]int64{}
		for _, b := range p.Backups {
			if err := tallyBackup(b, p.ID, ids, counts); err != nil {
				problems = append(problems, fmt.Sprintf("%s: backup %s: %v", p.Name, b.File, err))
			}
		}
		for u, n := range counts {
			accounts = append(accounts, AccountCount{Product: p.ID, User: u, Tokens: n})
		}
	}
	sort.Slice(accounts, func(i, j int) bool {
		a, b := accounts[i], accounts[j]
		if a.Product != b.Product {
			return a.Product < b.Product
		}
		if a.Tokens != b.Tokens {
			return a.Tokens > b.Tokens
		}
		return a.User < b.User
	})
	return accounts, problems
}

func tallyBackup(b Backup, productID string, ids []backup.Identity, counts map[string]int64) error {
	if b.Encrypted && len(ids) == 0 {
		return errors.New("encrypted: pass --identity FILE to list its accounts")
	}
	rd, err := backup.OpenWith(b.File, ids)
	if err != nil {
		return err
	}
	defer rd.Close()
	col, idCol := userColumn(rd.Manifest(), productID), columnIndex(rd.Manifest(), rd.Manifest().IDColumn)
	if col < 0 {
		return errors.New("no user column in it")
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if id, ok := row[max(idCol, 0)].(int64); idCol >= 0 && ok && id < 0 {
			continue // reauth's own proof token (a negative id no product allocates): no user's session
		}
		counts[fmt.Sprint(row[col])]++
	}
}

func columnIndex(m backup.Manifest, name string) int {
	for i, c := range m.Columns {
		if strings.EqualFold(c.Name, name) {
			return i
		}
	}
	return -1
}

// userColumn is the index of the catalog's user column in the backup's columns (-1: none).
func userColumn(m backup.Manifest, productID string) int {
	id, _, _ := strings.Cut(productID, "@") // id@file where one id is in several inventories
	p, err := atlassian.Lookup(id)
	if err != nil {
		return -1
	}
	return columnIndex(m, p.Table.User)
}

// AccountsCSV renders the accounts as CSV: product, user as the table stores it, tokens. A cell that a spreadsheet
// would run as a formula (=, +, -, @ first) is prefixed with ' so that it stays text.
func AccountsCSV(accounts []AccountCount) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"product", "user_as_stored", "tokens_deleted"})
	for _, a := range accounts {
		_ = w.Write([]string{a.Product, textCell(a.User), strconv.FormatInt(a.Tokens, 10)})
	}
	w.Flush()
	return b.Bytes()
}

func textCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
