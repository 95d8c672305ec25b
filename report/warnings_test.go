package report

import (
	"slices"
	"testing"
)

// TestSharedWarningsSaidOnce: the report's gaps say a warning two products share (the clear-
// backup warning) once, naming both; a product's own warning stays its own.
func TestSharedWarningsSaidOnce(t *testing.T) {
	const clear = "backups are NOT encrypted"
	r := &Report{Products: []*Product{
		{Name: "jira", Status: "done", Warnings: []string{clear, "Jira has one node"}},
		{Name: "confluence", Status: "done", Warnings: []string{clear}},
	}}
	got := skipped(r)
	for _, want := range []string{"jira, confluence: " + clear, "jira: Jira has one node"} {
		if !slices.Contains(got, want) {
			t.Errorf("gaps %q lack %q", got, want)
		}
	}
	if slices.Contains(got, "jira: "+clear) || slices.Contains(got, "confluence: "+clear) {
		t.Errorf("the shared warning is said per product: %q", got)
	}
}
