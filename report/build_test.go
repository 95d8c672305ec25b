package report

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth/audit"
)

// hostileUser is a user name (they come from the token table) that must stay text in both formats.
const hostileUser = "<script>alert(1)</script>|x"

// fakeRun writes a run's audit lines as the runbook does, on a clock the test advances.
type fakeRun struct {
	t   *testing.T
	l   *audit.Log
	now time.Time
}

func newFakeRun(t *testing.T, path, runID string) *fakeRun {
	f := &fakeRun{t: t, now: time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)}
	l, err := audit.Open(path, runID, func() time.Time { return f.now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f.l = l
	return f
}

func (f *fakeRun) at(ms int, product, step, outcome string, fields map[string]any) {
	f.t.Helper()
	f.now = f.now.Add(time.Duration(ms) * time.Millisecond)
	if err := f.l.Step(product, step, outcome, fields); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeRun) start(cookies bool) {
	f.at(0, "", "run", "started", map[string]any{"products": []string{"jira"}, "audit_log": "/var/log/reauth-audit.jsonl"})
	plan := map[string]any{"name": "Jira", "status": "planned", "database": "postgres 127.0.0.1:5432/jira as jira",
		"table": "remembermetoken", "mode": "restart", "to_delete": 5, "to_keep": 1, "per_user_total": 3,
		"top_users":      []map[string]any{{"user": "alice", "count": 3}, {"user": hostileUser, "count": 2}},
		"excluded_users": []string{"breakglass"}, "restore_target": "--product jira --home /srv/jira",
		"nodes": []map[string]any{{"name": "node1", "url": "http://10.0.0.11:8080", "method": "ssh"},
			{"name": "node2", "url": "http://10.0.0.12:8080", "method": "ssh"}, {"name": "node3", "url": "http://10.0.0.13:8080", "method": "ssh"}}}
	if cookies {
		plan["cookies_given"] = 1
	}
	f.at(10, "jira", "plan", "ok", plan)
	f.at(10, "jira", "lock", "ok", nil)
	if cookies {
		f.at(10, "jira", "replay", "before", map[string]any{"sources": []map[string]any{{"source": "cookies file JSESSIONID#0badf00d",
			"cookie": "JSESSIONID#0badf00d", "accepted": []string{"node1"}, "rejected": []string{"node2", "node3"}, "errors": []string{}}}})
	}
	f.at(10, "jira", "cutoff", "ok", map[string]any{"cutoff_id": 99, "to_delete": 5, "to_keep": 1})
	f.at(10, "jira", "purge_start", "ok", map[string]any{"backup": "/backups/reauth-jira-1.jsonl.gz"})
	f.at(200, "jira", "purge", "ok", map[string]any{"deleted": 5, "kept": 3, "backup": "/backups/reauth-jira-1.jsonl.gz", "sha256": "ab12cd34",
		"encrypted": cookies, "recipients": 1, "useful_until_note": "its tokens can log users in until 2026-12-11"})
}

func (f *fakeRun) node(name string, fail bool) {
	f.at(10, "jira", "node", "drain", map[string]any{"node": name})
	f.at(100, "jira", "node", "restarting", map[string]any{"node": name, "method": "ssh"})
	f.at(300, "jira", "node", "down", map[string]any{"node": name, "state": "unreachable"})
	f.at(500, "jira", "node", "starting", map[string]any{"node": name, "state": "HTTP 503"})
	f.at(500, "jira", "node", "starting", map[string]any{"node": name, "state": "STARTING"})
	if fail {
		f.at(4000, "jira", "node", "failed", map[string]any{"node": name, "message": "not RUNNING within the start timeout 4s (last state STARTING)"})
		return
	}
	f.at(1000, "jira", "node", "stable", map[string]any{"node": name, "state": "RUNNING"})
	f.at(500, "jira", "node", "restarted", map[string]any{"node": name, "state": "RUNNING"})
}

func (f *fakeRun) end(code int, errText string, verified bool, cookies int) {
	f.at(5, "", "run", map[bool]string{true: "failed", false: "done"}[code != 0], map[string]any{"exit_code": code, "error": errText,
		"verified": verified, "deleted": 5, "cookies_checked": cookies, "sessions_before": min(cookies, 1),
		"not_covered": []string{"OAuth tokens and application links"}})
}

func (f *fakeRun) verify(cookies bool) {
	f.at(10, "jira", "verify_start", "ok", nil)
	if cookies {
		f.at(50, "jira", "replay", "after", map[string]any{"sources": []map[string]any{{"source": "cookies file JSESSIONID#0badf00d",
			"cookie": "JSESSIONID#0badf00d", "accepted": []string{}, "rejected": []string{"node1", "node2", "node3"}, "errors": []string{}}}})
	}
	n := map[bool]int{true: 1, false: 0}[cookies]
	f.at(10, "jira", "verify", "ok", map[string]any{"tokens_checked": true, "tokens_remaining": 0, "cookies_checked": n,
		"sessions_before": n, "sessions_valid_after": 0, "nodes_running": true})
}

func render(t *testing.T, r *Report) (string, string) {
	t.Helper()
	var h, m bytes.Buffer
	if err := HTML(&h, r); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&m, r); err != nil {
		t.Fatal(err)
	}
	return h.String(), m.String()
}

// A run that stopped at node2 (exit 3): the report says failed at the top with the reason, marks
// node2's lane failed, shows node3 untouched and lists it as not covered.
func TestFailedRunReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f := newFakeRun(t, path, "run-a")
	f.start(true)
	f.node("node1", false)
	f.node("node2", true)
	f.at(5, "jira", "restart", "restarted", map[string]any{"node": "node1", "went_down": true})
	f.at(0, "jira", "restart", "failed", map[string]any{"node": "node2", "went_down": true, "error": "not RUNNING within the start timeout 4s"})
	f.at(0, "jira", "restart", "untouched", map[string]any{"node": "node3"})
	errText := "node node2 failed: not RUNNING within the start timeout 4s (restarted: node1; failed: node2; not touched: node3)"
	f.at(1, "jira", "failed", "error", map[string]any{"phase": "purged", "error": errText})
	f.end(3, errText, false, 0)

	r, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.RunID != "run-a" || r.Outcome != Failed || !strings.HasPrefix(r.Reason, "exit 3 (partial") || !strings.Contains(r.Reason, "node node2 failed") {
		t.Fatalf("outcome %q: %q", r.Outcome, r.Reason)
	}
	html, md := render(t, r)
	if !regexp.MustCompile(`<p id="outcome" class="outcome failed" data-outcome="failed"><strong>failed</strong> exit 3 \(partial[^<]*node node2 failed`).MatchString(html) {
		t.Errorf("outcome line:\n%s", head(html, "<p id=\"outcome\"", 400))
	}
	if n := strings.Count(html, `<g class="lane node`); n != 3 {
		t.Errorf("%d node lanes, want 3", n)
	}
	if !strings.Contains(html, `<g class="lane node failed" data-product="jira" data-node="node2">`) ||
		strings.Contains(html, `<g class="lane node failed" data-product="jira" data-node="node1">`) {
		t.Errorf("node2's lane is not the one marked failed")
	}
	if !strings.Contains(html, `<text class="mark-label fail"`) || !strings.Contains(html, "✕ failed</text>") {
		t.Errorf("no failure mark")
	}
	if !strings.Contains(html, "not touched") || !strings.Contains(strings.Join(r.NotCovered, "\n"), "node(s) node3 not restarted") {
		t.Errorf("node3 untouched not said: %v", r.NotCovered)
	}
	node1 := r.Products[0].Nodes[0]
	if node1.Downtime != 2000*time.Millisecond || node1.Status != "restarted" || r.Products[0].Nodes[1].Running != (time.Time{}) {
		t.Errorf("node1 downtime %v status %q", node1.Downtime, node1.Status)
	}
	if !strings.HasPrefix(md, "# Forced re-login: Jira\n\n**Outcome: failed**: exit 3 (partial") ||
		!strings.Contains(md, "| jira node2 | **✕ failed: not RUNNING within the start timeout 4s (last state STARTING)** |") {
		t.Errorf("markdown:\n%s", md)
	}
	if strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;|x") ||
		!strings.Contains(md, "| &lt;script&gt;alert(1)&lt;/script&gt;\\|x | 2 |") {
		t.Errorf("a user name is not kept as text")
	}
	p := r.Products[0]
	if p.TokensBefore != 6 || p.ExcludedTokens != 1 || p.KeptAfterCutoff != 2 || len(p.Backups) != 1 ||
		p.Backups[0].Restore != "reauth restore --product jira --home /srv/jira /backups/reauth-jira-1.jsonl.gz --identity KEYFILE --audit-log /var/log/reauth-audit.jsonl" {
		t.Errorf("counts: before %d excluded %d after-cutoff %d backups %+v", p.TokensBefore, p.ExcludedTokens, p.KeptAfterCutoff, p.Backups)
	}
}

// A run that finished with exit 0 and verified=true, but replayed no cookie, is unproven at the
// top; the same run with a cookie accepted before and rejected by every node after is verified.
func TestUnprovenAndVerified(t *testing.T) {
	for _, cookies := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		f := newFakeRun(t, path, "run-b")
		f.start(cookies)
		for _, n := range []string{"node1", "node2", "node3"} {
			f.node(n, false)
		}
		f.verify(cookies)
		f.end(0, "", true, map[bool]int{true: 1, false: 0}[cookies])
		r, err := Load(path, "run-b")
		if err != nil {
			t.Fatal(err)
		}
		html, md := render(t, r)
		want, why := Unproven, "no old cookie was replayed"
		if cookies {
			want, why = Verified, "every node rejects all 1 replayed cookie(s)"
		}
		if r.Outcome != want || !strings.Contains(r.Reason, why) {
			t.Errorf("cookies=%v: %s: %s", cookies, r.Outcome, r.Reason)
		}
		if !strings.Contains(html, `data-outcome="`+want+`"><strong>`+want+`</strong> `) || !strings.Contains(md, "**Outcome: "+want+"**: ") {
			t.Errorf("cookies=%v: the top does not say %s", cookies, want)
		}
		if cookies != strings.Contains(md, "yes (age, 1 recipient(s))") || cookies != strings.Contains(md, ".jsonl.gz --identity KEYFILE") ||
			!strings.Contains(md, "Until when it matters: its tokens can log users in until 2026-12-11.") {
			t.Errorf("cookies=%v: backup encryption, restore or lifetime not said:\n%s", cookies, md)
		}
		if cookies && (!strings.Contains(md, "| cookies file | `JSESSIONID#0badf00d` | accepted → rejected | rejected → rejected | rejected → rejected |") ||
			!strings.Contains(md, "| node1 | 1 | 1 | 1 | 0 | 0 |\n| node2 | 1 | 0 | 1 | 0 | 0 |")) {
			t.Errorf("proof tables:\n%s", md)
		}
	}
}

// A run whose end is not in the log (killed) is failed, not verified; an unknown run id is a clear
// error naming the runs the log has.
func TestUnfinishedAndUnknownRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f := newFakeRun(t, path, "run-c")
	f.start(false)
	r, err := Load(path, "run-c")
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != Failed || !strings.Contains(r.Reason, "did not finish") {
		t.Errorf("%s: %s", r.Outcome, r.Reason)
	}
	if _, err := Load(path, "run-x"); err == nil || !strings.Contains(err.Error(), "run-c") {
		t.Errorf("unknown run: %v", err)
	}
	if _, err := FormatOf("report.pdf"); err == nil {
		t.Error("report.pdf accepted")
	}
}

func head(s, from string, n int) string {
	i := strings.Index(s, from)
	if i < 0 {
		return s[:min(n, len(s))]
	}
	return s[i:min(len(s), i+n)]
}

// The run's own proof object (the audit log's "proof" step) decides verified or unproven, and
// its sources, minted token and per-node counts are shown.
func TestProofObject(t *testing.T) {
	for _, level := range []string{"cookies", "tokens-only"} {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		f := newFakeRun(t, path, "run-p")
		f.start(false)
		for _, n := range []string{"node1", "node2", "node3"} {
			f.node(n, false)
		}
		f.verify(false)
		proof := map[string]any{"level": level, "cookies_replayed": 4, "sources": map[string]int{"minted": 1, "sampled": 3},
			"minted": map[string]any{"user": "admin", "row_id": -1234567890, "accepted_before": []string{"node1", "node2", "node3"},
				"rejected_after": []string{"node1", "node2", "node3"}, "removed": true},
			"sampled": map[string]any{"asked": 20, "taken": 3, "users": 2, "from": "table"},
			"nodes": []map[string]any{{"node": "node1", "accepted_before": 4, "rejected_after": 4,
				"restart": map[string]any{"mode": "restart", "seen_down": true, "running": true, "evidence": "seen down, new process, RUNNING"}}},
			"issued_before": map[string]any{"by": "created"}}
		if level != "cookies" {
			proof["not_proven"], proof["how_to_prove"] = []string{"no cookie could be built"}, "add a canary"
		}
		f.at(1, "jira", "proof", "ok", map[string]any{"proof": proof})
		f.end(0, "", level == "cookies", 0)
		r, err := Load(path, "")
		if err != nil {
			t.Fatal(err)
		}
		html, md := render(t, r)
		want := map[string]string{"cookies": Verified, "tokens-only": Unproven}[level]
		if r.Outcome != want || !strings.Contains(md, "**Outcome: "+want+"**") {
			t.Errorf("%s: outcome %s: %s", level, r.Outcome, r.Reason)
		}
		if level != "cookies" && !strings.Contains(r.Reason, "add a canary") {
			t.Errorf("unproven without how to prove it: %s", r.Reason)
		}
		for _, s := range []string{"Proof level: **" + level + "**; cookies replayed: **4** (minted 1, sampled 3)", "Minted proof token: one row for **admin** (id -1234567890)",
			"| node1 | 4 | 4 | 4 | 0 | 0 |", "seen down, new process, RUNNING"} {
			if !strings.Contains(md, s) {
				t.Errorf("%s: markdown lacks %q:\n%s", level, s, md)
			}
		}
		if !strings.Contains(html, "Proof level: <strong>"+level+"</strong>") {
			t.Errorf("%s: html lacks the proof level", level)
		}
	}
}

// A rolling restart in waves: each wave is a mark on the product's lane and a line of the Markdown
// timeline, and each node's lane names its wave.
func TestWavesOnTheTimeline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	f := newFakeRun(t, path, "run-w")
	f.start(false)
	f.at(5, "jira", "wave", "ok", map[string]any{"message": "wave 1: node1, node2"})
	f.node("node1", false)
	f.node("node2", false)
	f.at(5, "jira", "wave", "ok", map[string]any{"message": "wave 2: node3"})
	f.node("node3", false)
	for i, n := range []string{"node1", "node2", "node3"} {
		f.at(1, "jira", "restart", "restarted", map[string]any{"node": n, "went_down": true, "wave": 1 + i/2})
	}
	f.verify(false)
	f.end(0, "", true, 0)
	r, err := Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if p := r.Products[0]; len(p.Waves) != 2 || p.Nodes[1].Wave != 1 || p.Nodes[2].Wave != 2 {
		t.Fatalf("waves %+v, nodes %+v %+v", p.Waves, p.Nodes[1], p.Nodes[2])
	}
	html, md := render(t, r)
	if strings.Count(html, `<line class="mark-line wave"`) != 2 || !strings.Contains(html, ">wave 2</text>") {
		t.Errorf("no wave marks on the product lane")
	}
	if !strings.Contains(html, "ssh · wave 2") {
		t.Errorf("node3's lane does not name its wave")
	}
	if !strings.Contains(md, "| jira | wave 2: node3 |") {
		t.Errorf("markdown timeline has no wave line:\n%s", md)
	}
}
