package report

import (
	"reflect"

	"github.com/reauth/reauth/internal/termsafe"
)

// sanitize passes every string of the report (fields, slices, map keys and values, at any depth)
// through termsafe.Text: node names, user names and what nodes answered reach both the HTML page
// and the Markdown, and neither may carry a raw ESC or a bidi control. It walks the model rather
// than each template's fields so that a field added later is covered too. Line breaks and tabs
// stay (they are plain whitespace in HTML; the Markdown flattens them).
func sanitize(r *Report) { sanitizeValue(reflect.ValueOf(r), map[uintptr]bool{}) }

func sanitizeValue(v reflect.Value, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		sanitizeValue(v.Elem(), seen)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				sanitizeValue(f, seen)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			sanitizeValue(v.Index(i), seen)
		}
	case reflect.Map:
		if v.IsNil() || !v.CanSet() {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			k.Set(it.Key())
			e.Set(it.Value())
			sanitizeValue(k, seen)
			sanitizeValue(e, seen)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		if v.CanSet() {
			v.SetString(termsafe.Text(v.String()))
		}
	}
}
