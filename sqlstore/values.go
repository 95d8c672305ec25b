package sqlstore

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/reauth/reauth/backup"
)

// kindOf maps a column's SQL type (as the catalog reports it) to how its values are scanned and
// stored in the backup. Exact decimals with a fraction are kept as text so nothing is rounded.
func kindOf(sqlType string, scale int64) backup.Kind {
	t := strings.ToLower(sqlType)
	switch {
	case strings.Contains(t, "bool"), t == "bit":
		return backup.KindBool
	case strings.Contains(t, "int"):
		return backup.KindInt
	case strings.Contains(t, "numeric"), strings.Contains(t, "decimal"), strings.HasPrefix(t, "number"):
		if scale == 0 {
			return backup.KindInt
		}
		return backup.KindString
	case strings.Contains(t, "timestamp"), strings.Contains(t, "date"), strings.HasPrefix(t, "time"):
		return backup.KindTime
	case strings.Contains(t, "double"), strings.Contains(t, "float"), t == "real":
		return backup.KindFloat
	case strings.Contains(t, "bytea"), strings.Contains(t, "blob"), strings.Contains(t, "binary"), t == "raw", t == "image":
		return backup.KindBytes
	}
	return backup.KindString
}

// rowScanner holds one reusable scan destination per column, so the purge loop allocates
// little per row.
type rowScanner struct {
	kinds []backup.Kind
	dest  []any
	vals  []any
	ints  []sql.NullInt64
	strs  []sql.NullString
	times []sql.NullTime
	bools []sql.NullBool
	flts  []sql.NullFloat64
	raws  []any
}

func newRowScanner(cols []backup.Column) *rowScanner {
	n := len(cols)
	r := &rowScanner{kinds: make([]backup.Kind, n), dest: make([]any, n), vals: make([]any, n),
		ints: make([]sql.NullInt64, n), strs: make([]sql.NullString, n), times: make([]sql.NullTime, n),
		bools: make([]sql.NullBool, n), flts: make([]sql.NullFloat64, n), raws: make([]any, n)}
	for i, c := range cols {
		r.kinds[i] = c.Kind
		switch c.Kind {
		case backup.KindInt:
			r.dest[i] = &r.ints[i]
		case backup.KindTime:
			// Scanned as any: SQLite returns text for its TIMESTAMP columns, others time.Time.
			r.dest[i] = &r.raws[i]
		case backup.KindBool:
			r.dest[i] = &r.bools[i]
		case backup.KindFloat:
			r.dest[i] = &r.flts[i]
		case backup.KindBytes:
			r.dest[i] = &r.raws[i]
		default:
			r.dest[i] = &r.strs[i]
		}
	}
	return r
}

// scan reads one row and returns its typed values (valid until the next scan).
func (r *rowScanner) scan(rows *sql.Rows) ([]any, error) {
	if err := rows.Scan(r.dest...); err != nil {
		return nil, err
	}
	for i, k := range r.kinds {
		switch k {
		case backup.KindInt:
			r.vals[i] = nullable(r.ints[i].Valid, r.ints[i].Int64)
		case backup.KindTime:
			v, err := timeOf(r.raws[i])
			if err != nil {
				return nil, err
			}
			r.vals[i] = v
		case backup.KindBool:
			r.vals[i] = nullable(r.bools[i].Valid, r.bools[i].Bool)
		case backup.KindFloat:
			r.vals[i] = nullable(r.flts[i].Valid, r.flts[i].Float64)
		case backup.KindBytes:
			switch b := r.raws[i].(type) {
			case nil:
				r.vals[i] = nil
			case []byte:
				r.vals[i] = append([]byte{}, b...)
			case string:
				r.vals[i] = []byte(b)
			default:
				return nil, fmt.Errorf("unexpected %T for a binary column", b)
			}
		default:
			r.vals[i] = nullable(r.strs[i].Valid, r.strs[i].String)
		}
	}
	return r.vals, nil
}

// fromText converts one row read as the driver's bytes (sql.RawBytes, nil for NULL) into typed
// values, for a table whose columns are all integers, text or times (textKinds). It is how a
// row Batch.TextRow refuses is read: database/sql does not allow a second Scan of a row scanned
// into RawBytes ("Scan called without calling Next"), so the bytes already read are converted.
func (r *rowScanner) fromText(raw []sql.RawBytes) ([]any, error) {
	for i, k := range r.kinds {
		if raw[i] == nil {
			r.vals[i] = nil
			continue
		}
		switch k {
		case backup.KindInt:
			n, _, err := toInt(string(raw[i]))
			if err != nil {
				return nil, fmt.Errorf("cannot read %q as an integer", raw[i])
			}
			r.vals[i] = n
		case backup.KindTime:
			v, err := timeOf(string(raw[i]))
			if err != nil {
				return nil, err
			}
			r.vals[i] = v
		case backup.KindString:
			r.vals[i] = string(raw[i])
		default:
			return nil, fmt.Errorf("column %d: a %s value cannot be read as text", i, k)
		}
	}
	return r.vals, nil
}

func nullable[T any](valid bool, v T) any {
	if !valid {
		return nil
	}
	return v
}

// timeLayouts are the text forms SQLite (modernc) and MySQL without parseTime use.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700 MST", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"}

// timeOf reads a time column's value for the backup: nil (NULL), a time.Time, or the text of a
// PostgreSQL infinity, which no time.Time holds (the backup keeps it as text, and a restore
// writes it back as such).
func timeOf(v any) (any, error) {
	if s, ok := v.(string); ok && backup.Infinite(s) {
		return s, nil
	}
	t, ok, err := toTime(v)
	if err != nil || !ok {
		return nil, err
	}
	return t, nil
}

func toTime(v any) (time.Time, bool, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		return x, true, nil
	case []byte:
		return parseTime(string(x))
	case string:
		return parseTime(x)
	case int64: // SQLite may hold unix seconds
		return time.Unix(x, 0).UTC(), true, nil
	}
	return time.Time{}, false, fmt.Errorf("unexpected %T for a time column", v)
}

func parseTime(s string) (time.Time, bool, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true, nil
		}
	}
	// A BC year or one past 9999, as database/sql spells a time.Time it hands over as bytes.
	if v, err := backup.ParseTime(s); err == nil {
		if t, ok := v.(time.Time); ok {
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("cannot read %q as a time", s)
}

// toInt reads an aggregate (MIN/MAX/COUNT) that drivers return as int64, string or []byte.
func toInt(v any) (int64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return x, true, nil
	case float64:
		return int64(x), true, nil
	case []byte:
		n, err := strconv.ParseInt(strings.TrimSuffix(string(x), ".0"), 10, 64)
		return n, err == nil, err
	case string:
		n, err := strconv.ParseInt(strings.TrimSuffix(x, ".0"), 10, 64)
		return n, err == nil, err
	}
	return 0, false, fmt.Errorf("unexpected %T for a number", v)
}
