package inventory

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// LoadAll reads several inventory files (reauth run --config a.yaml --config b.yaml) and every
// file they include (include:, relative to the including file), into one inventory:
//
//   - Path, Dir and Defaults are the first file's: the run's audit log and its bound on products at
//     once. Another file that names a different audit_log is refused (one run writes one audit
//     log); defaults.parallel is the smallest any file sets.
//   - Every product keeps its own file (FileOf): its relative paths, timeouts, purge rest, backup directory,
//     recipients and journals are that file's, as when the file is run alone.
//   - A file read twice (an include cycle, or one file given and included) and a product home or
//     database listed twice are refused, naming the files: nothing is read past the first error.
//   - A product id in several files is named id@file (file: the file's name without .yaml).
func LoadAll(paths []string) (*Inventory, error) {
	if len(paths) == 0 {
		return nil, reauth.Usage("pass --config reauth.yaml", "no inventory file given")
	}
	l := &loader{from: map[string]string{}}
	for _, p := range paths {
		if err := l.load(p, "--config", nil); err != nil {
			return nil, err
		}
	}
	if len(l.files) == 1 {
		inv := l.files[0]
		if len(inv.Products) == 0 {
			return nil, lineError(inv.Path, inv.IncludeLine, "add a 'products:' list with at least one product", "no products")
		}
		return inv, checkRepeats(inv)
	}
	root := l.files[0]
	all := &Inventory{Path: root.Path, Dir: root.Dir, Defaults: root.Defaults, Files: l.files}
	for _, f := range l.files {
		if f.Defaults.Parallel > 0 && (all.Defaults.Parallel == 0 || f.Defaults.Parallel < all.Defaults.Parallel) {
			all.Defaults.Parallel = f.Defaults.Parallel
		}
		if a := f.Resolve(f.Defaults.AuditLog); a != "" && a != root.Resolve(root.Defaults.AuditLog) {
			return nil, reauth.Usage(fmt.Sprintf("set the same defaults.audit_log in both, or only in %s (the run's first file)", root.Path),
				"%s names the audit log %s, but this run writes %s (from %s): one run keeps one audit log", f.Path, a, orState(root.Resolve(root.Defaults.AuditLog)), root.Path)
		}
		for i := range f.Products {
			p := f.Products[i]
			p.File = f
			all.Products = append(all.Products, p)
		}
	}
	if len(all.Products) == 0 {
		return nil, reauth.Usage("add products to the files, or include the files that list them", "no products in %s", strings.Join(l.order, ", "))
	}
	if err := checkRepeats(all); err != nil {
		return nil, err
	}
	nameRepeated(all.Products)
	return all, nil
}

func orState(p string) string {
	if p == "" {
		return "the state directory's audit.jsonl"
	}
	return p
}

// loader reads files depth first, each once.
type loader struct {
	files []*Inventory
	order []string
	from  map[string]string // file → who named it first ("--config" or "a.yaml:3")
}

func (l *loader) load(path, by string, stack []string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return reauth.Usage("give the path of an inventory file", "inventory %s: %v", path, err)
	}
	key := abs
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		key = real
	}
	for i, s := range stack {
		if s == key {
			cycle := append(append([]string(nil), stack[i:]...), key)
			return reauth.Usage("remove one of these include: entries so that no file includes itself",
				"include cycle: %s", strings.Join(cycle, " → "))
		}
	}
	if first, dup := l.from[key]; dup {
		return reauth.Usage("name each inventory file once: in one --config or one include:",
			"inventory %s is read twice: named by %s and by %s", abs, first, by)
	}
	l.from[key] = by
	inv, err := loadFile(path)
	if err != nil {
		return err
	}
	l.files, l.order = append(l.files, inv), append(l.order, inv.Path)
	for _, inc := range inv.Include {
		p := inc
		if !filepath.IsAbs(p) {
			p = filepath.Join(inv.Dir, p)
		}
		if err := l.load(p, fmt.Sprintf("include: in %s:%d", inv.Path, inv.IncludeLine), append(stack, key)); err != nil {
			return err
		}
	}
	return nil
}

// checkRepeats refuses one product home, or one product's database, listed twice: the same
// product would be purged and restarted twice, by two units that take one lock.
func checkRepeats(inv *Inventory) error {
	homes, dbs := map[string]*Product{}, map[string]*Product{}
	where := func(p *Product) string {
		return fmt.Sprintf("%s (%s:%d)", p.Label(), inv.FileOf(p).Path, p.Line)
	}
	for i := range inv.Products {
		p := &inv.Products[i]
		f := inv.FileOf(p)
		if p.Home != "" {
			h := filepath.Clean(f.Resolve(p.Home))
			if real, err := filepath.EvalSymlinks(h); err == nil {
				h = real
			}
			if prev, dup := homes[h]; dup {
				return reauth.Usage("list each product home once (remove one of the entries, or the include that repeats it)",
					"product home %s is listed twice: %s and %s", h, where(prev), where(p))
			}
			homes[h] = p
		}
		if p.Database != nil && p.Database.JDBCURL != "" {
			k := string(p.ID) + " " + databaseKey(p.Database.JDBCURL)
			if prev, dup := dbs[k]; dup {
				return reauth.Usage("list each product database once (remove one of the entries, or the include that repeats it): "+
					"two entries would take the same run lock, and the second would stop as if another reauth run held it",
					"%s database is listed twice: %s as %s and %s as %s", p.ID,
					where(prev), prev.Database.JDBCURL, where(p), p.Database.JDBCURL)
			}
			dbs[k] = p
		}
	}
	return nil
}

// databaseKey is one database however its JDBC URL spells it: the server as Database.Server
// names it (127.0.0.1, localhost and ::1 are one; the default port written or not; MySQL and
// MariaDB one family), then the database and schema. A URL that does not parse is its own key
// (the product's discovery reports the error).
func databaseKey(jdbcURL string) string {
	db, err := atlassian.ParseJDBCURL(jdbcURL)
	if err != nil || db.Server() == "" {
		return jdbcURL
	}
	return db.Server() + "/" + db.Name + " schema " + db.Schema
}

// nameRepeated names products whose id is in several files id@file, with the file's name
// (without .yaml/.yml), or its path relative to the first file's directory where names repeat.
func nameRepeated(ps []Product) {
	count := map[string]int{}
	for _, p := range ps {
		count[string(p.ID)]++
	}
	stem := func(p *Product) string {
		b := filepath.Base(p.File.Path)
		return strings.TrimSuffix(strings.TrimSuffix(b, ".yaml"), ".yml")
	}
	used := map[string]int{}
	for i := range ps {
		if count[string(ps[i].ID)] > 1 {
			used[string(ps[i].ID)+"@"+stem(&ps[i])]++
		}
	}
	for i := range ps {
		p := &ps[i]
		if count[string(p.ID)] < 2 {
			continue
		}
		p.Name = string(p.ID) + "@" + stem(p)
		if used[p.Name] > 1 {
			p.Name = string(p.ID) + "@" + p.File.Path
		}
	}
}

// FileOf is the inventory file p is written in: its relative paths resolve against it, and its
// defaults (timeouts, backup directory, recipients) are p's.
func (inv *Inventory) FileOf(p *Product) *Inventory {
	if p != nil && p.File != nil {
		return p.File
	}
	return inv
}

// Label is how reauth names the product (Name, else its id).
func (p *Product) Label() string {
	if p.Name != "" {
		return p.Name
	}
	return string(p.ID)
}
