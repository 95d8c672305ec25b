package runbook

// The orchestration's own logic with fakes for the token table, the restart and the nodes
// (mock/): lock before plan and held to the report, confirmation, dry run, stop and resume, and
// what "verified" may claim. These run in milliseconds; the same behaviour on real databases and
// real node processes is tested in e2e_test.go, faults_test.go and interrupt_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/mock"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/sqlstore"
	"github.com/reauth/reauth/verify"
)

// fakeJob is one Jira with two nodes on fakes: a token table of 40 rows issued before the run
// (ids 61..100) and nodes that accept a token until it is purged and they have restarted.
type fakeJob struct {
	t       *testing.T
	dir     string
	inv     *inventory.Inventory
	store   *mock.TokenStore
	rollout *mock.Rollout
	prober  *mock.NodeProber
	out     bytes.Buffer
	err     bytes.Buffer

	purged    atomic.Bool // the fake table's rows are gone
	minted    atomic.Bool // the proof token is in the fake table (the purge deletes it with the rest)
	restarted atomic.Int32
	// stillAccepts is a node that keeps accepting purged tokens after its restart (a cache).
	stillAccepts string
}

// fakeInventory writes, in a private temporary directory, the inventory of one product on fakes
// (two nodes, a database nobody listens on) with its backup directory, and loads it. lines are
// the product's own settings (mode, proof_user, admin…).
func fakeInventory(t *testing.T, product, lines string) (dir string, inv *inventory.Inventory) {
	t.Helper()
	dir = t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`defaults:
  backup_dir: %[1]s/backups
  audit_log: %[1]s/audit.jsonl
  stable_window: 1ms
products:
  - product: %[2]s
%[3]s    database: {jdbc_url: "jdbc:postgresql://127.0.0.1:9/%[2]s", user: %[2]s}
    nodes:
      - {name: n1, url: "http://127.0.0.1:9/n1", restart: {exec: {command: "never run"}}}
      - {name: n2, url: "http://127.0.0.1:9/n2", restart: {exec: {command: "never run"}}}
`, dir, product, lines)
	if err := os.Mkdir(filepath.Join(dir, "backups"), 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "reauth.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return dir, inv
}

func newFakeJob(t *testing.T) *fakeJob {
	t.Helper()
	dir, inv := fakeInventory(t, "jira", "    mode: restart\n    proof_user: alice\n")
	f := &fakeJob{t: t, dir: dir, inv: inv, store: &mock.TokenStore{}, rollout: &mock.Rollout{}, prober: &mock.NodeProber{}}
	const cutoff, rows = 100, 40
	f.store.TableFunc = func() sqlstore.TableInfo { return sqlstore.TableInfo{Name: "JIRA_REMEMBERMETOKEN", User: "USERNAME"} }
	f.store.PlanFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgePlan, error) {
		p := sqlstore.PurgePlan{CutoffID: cutoff, ToDelete: rows}
		if f.minted.Load() {
			p.ToDelete++
		}
		if o.CutoffID != 0 {
			p.CutoffID = o.CutoffID
		}
		if f.purged.Load() {
			p.ToDelete = 0
		}
		return p, nil
	}
	f.store.PurgeFunc = func(_ context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
		if o.CutoffID != cutoff {
			t.Errorf("purge with cut-off %d, want %d", o.CutoffID, cutoff)
		}
		f.purged.Store(true)
		deleted := int64(rows)
		if f.minted.Swap(false) {
			deleted++
		}
		return sqlstore.PurgeResult{Deleted: deleted, Kept: 3, Backup: o.BackupPath, SHA256: "sum", Batches: 1, CutoffID: o.CutoffID}, nil
	}
	f.store.RemainingFunc = func(context.Context, int64, sqlstore.PurgeOptions) (int64, error) {
		if f.purged.Load() {
			return 0, nil
		}
		return rows, nil
	}
	f.store.MintFunc = func(_ context.Context, _ atlassian.ProofCookie, _, _ string, _ time.Time, record func(int64, string) error) (sqlstore.ProofToken, error) {
		if err := record(-5, sqlstore.TokenDigest("t")); err != nil {
			return sqlstore.ProofToken{}, err
		}
		f.minted.Store(true)
		return sqlstore.ProofToken{ID: -5, User: "alice", Series: "s", Token: "t"}, nil
	}
	f.store.DeleteMintedFunc = func(context.Context, atlassian.ProofCookie, int64, string) (int64, error) { return 0, nil } // the purge took it
	f.rollout.RunFunc = func(ctx context.Context, p rollout.Plan, o rollout.Options) (rollout.Result, error) {
		var res rollout.Result
		for _, n := range p.Nodes {
			if err := o.BeforeNode(ctx); err != nil {
				return res, err
			}
			res.Nodes = append(res.Nodes, rollout.NodeResult{Name: n.Name, Status: rollout.StatusRestarted, WentDown: true})
			f.restarted.Add(1)
		}
		return res, nil
	}
	f.prober.ReplayFunc = func(_ context.Context, node, _ string, c *http.Cookie) verify.Outcome {
		out := verify.Outcome{Node: node, Cookie: verify.Describe(c), HTTP: 401}
		gone := f.purged.Load() && f.restarted.Load() == 2 && node != f.stillAccepts
		if !gone {
			out.Accepted, out.User, out.HTTP = true, "alice", 200
		}
		return out
	}
	return f
}

// options are the run's options on the fakes: --yes unless a test says otherwise.
func (f *fakeJob) options() Options {
	return Options{
		Inventory: f.inv, Yes: true, StateDir: reauth.StateDir{Path: filepath.Join(f.dir, "state")},
		Out: &f.out, Err: &f.err, Getenv: func(string) string { return "" },
		seams: seams{
			open: func(context.Context, *inventory.Inventory, *inventory.Product, atlassian.Product, *Options) (TokenStore, reauth.Database, error) {
				return f.store, reauth.Database{Engine: reauth.Postgres, Host: "127.0.0.1", Port: 9, Name: "jira"}, nil
			},
			rollout: f.rollout,
			prober:  func(atlassian.Product, *http.Client) NodeProber { return f.prober },
		},
	}
}

func (f *fakeJob) run(o Options) (*Report, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Run(ctx, o)
}

// journal reads the product's run journal (nil: none).
func (f *fakeJob) journal(o Options) *Journal {
	f.t.Helper()
	o.defaults()
	j, ok, err := loadJournal(journalPath(&o, &f.inv.Products[0]))
	if err != nil {
		f.t.Fatal(err)
	}
	if !ok {
		return nil
	}
	return j
}

// calledBefore reports whether a appears in calls before b (both present).
func calledBefore(calls []string, a, b string) bool {
	i, j := slices.Index(calls, a), slices.Index(calls, b)
	return i >= 0 && j >= 0 && i < j
}

func TestFakeRunLocksBeforePlanAndHoldsTheLockToTheReport(t *testing.T) {
	f := newFakeJob(t)
	var unlockedDuringRestart atomic.Bool
	run := f.rollout.RunFunc
	f.rollout.RunFunc = func(ctx context.Context, p rollout.Plan, o rollout.Options) (rollout.Result, error) {
		unlockedDuringRestart.Store(f.store.Count("Unlock") > 0)
		return run(ctx, p, o)
	}
	rep, err := f.run(f.options())
	if err != nil {
		t.Fatalf("run: %v\n%s", err, f.err.String())
	}
	calls := f.store.Order()
	if !calledBefore(calls, "Lock", "Plan") {
		t.Errorf("the lock must be taken before the plan: %v", calls)
	}
	if n := f.store.Count("Lock"); n != 1 {
		t.Errorf("the lock was taken %d times, want once, held from preflight to the report: %v", n, calls)
	}
	if unlockedDuringRestart.Load() {
		t.Error("the lock was released before the restart")
	}
	if n := f.store.Count("Unlock"); n != 1 {
		t.Errorf("released %d times, want once", n)
	}
	if slices.Index(calls, "Unlock") < slices.Index(calls, "Purge") {
		t.Errorf("released before the purge: %v", calls)
	}
	if !rep.Verified || rep.Deleted != 40 || rep.NodesRestarted != 2 {
		t.Errorf("verified %v, deleted %d, restarted %d; want true, 40, 2\n%s", rep.Verified, rep.Deleted, rep.NodesRestarted, f.err.String())
	}
	if j := f.journal(f.options()); j == nil || j.Phase != PhaseDone {
		t.Errorf("journal %+v, want phase done", j)
	}
}

func TestFakeDryRunChangesNothing(t *testing.T) {
	f := newFakeJob(t)
	o := f.options()
	o.DryRun, o.Yes = true, false
	rep, err := f.run(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"Purge", "Mint", "DeleteMinted"} {
		if n := f.store.Count(m); n != 0 {
			t.Errorf("dry run called %s %d times", m, n)
		}
	}
	if n := f.rollout.Count("Run"); n != 0 {
		t.Errorf("dry run restarted nodes (%d calls)", n)
	}
	if f.store.Count("Unlock") != 1 {
		t.Error("dry run did not release its lock")
	}
	if !rep.DryRun || rep.Products[0].ToDelete != 40 || !strings.Contains(f.out.String(), "Dry run") {
		t.Errorf("report %+v; out:\n%s", rep, f.out.String())
	}
	if j := f.journal(o); j != nil {
		t.Errorf("a dry run wrote a journal: %+v", j)
	}
}

func TestFakeUnconfirmedRunChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		confirm func(string, string) (bool, error)
	}{
		{"no terminal and no --yes", nil},
		{"answered otherwise", func(string, string) (bool, error) { return false, nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeJob(t)
			o := f.options()
			o.Yes, o.Confirm = false, tc.confirm
			_, err := f.run(o)
			if reauth.CodeOf(err) != reauth.ExitRefused {
				t.Fatalf("err %v (code %d), want refused", err, reauth.CodeOf(err))
			}
			if f.store.Count("Purge")+f.store.Count("Mint")+f.rollout.Count("Run") != 0 {
				t.Errorf("changed something without confirmation: store %v, rollout %v", f.store.Order(), f.rollout.Order())
			}
			if f.store.Count("Unlock") != 1 {
				t.Error("the lock was not released")
			}
		})
	}
}

func TestFakeConfirmationNamesWhatChanges(t *testing.T) {
	f := newFakeJob(t)
	o := f.options()
	var asked []string
	o.Yes, o.Confirm = false, func(prompt, expect string) (bool, error) {
		asked = append(asked, prompt)
		if f.store.Count("Purge") != 0 {
			t.Error("asked after the purge")
		}
		return true, nil
	}
	if _, err := f.run(o); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || !strings.Contains(asked[0], "40 token(s)") || !strings.Contains(asked[0], "restart 2 node(s)") {
		t.Errorf("prompts %q, want one naming 40 tokens and 2 nodes", asked)
	}
}

func TestFakeLockHeldElsewhereRefusesBeforeThePlan(t *testing.T) {
	f := newFakeJob(t)
	f.store.LockFunc = func(context.Context, string) (func() error, error) {
		return nil, &reauth.Error{Code: reauth.ExitLocked, Op: "lock", Err: errors.New("held by reauth run 20261202T000000Z-abc on host x")}
	}
	_, err := f.run(f.options())
	if reauth.CodeOf(err) != reauth.ExitLocked {
		t.Fatalf("err %v (code %d), want exit %d", err, reauth.CodeOf(err), reauth.ExitLocked)
	}
	if n := f.store.Count("Plan"); n != 0 {
		t.Errorf("planned %d times without the lock", n)
	}
	if f.store.Count("Purge")+f.rollout.Count("Run") != 0 || strings.Contains(f.out.String(), "purge") {
		t.Errorf("went on without the lock: %v; out:\n%s", f.store.Order(), f.out.String())
	}
}

func TestFakeLostLockStopsBeforeThePurge(t *testing.T) {
	f := newFakeJob(t)
	f.store.CheckLockFunc = func(context.Context) error { return errors.New("the lock's connection was lost") }
	_, err := f.run(f.options())
	if err == nil || !strings.Contains(err.Error(), "lock") {
		t.Fatalf("err %v, want the lost lock", err)
	}
	if f.store.Count("Purge")+f.rollout.Count("Run") != 0 {
		t.Errorf("purged or restarted without the lock: %v", f.store.Order())
	}
}

func TestFakeLostLockStopsBeforeTheNextNode(t *testing.T) {
	f := newFakeJob(t)
	f.store.CheckLockFunc = func(context.Context) error {
		if f.purged.Load() && f.restarted.Load() == 1 {
			return errors.New("the lock's connection was lost")
		}
		return nil
	}
	_, err := f.run(f.options())
	if err == nil || f.restarted.Load() != 1 {
		t.Fatalf("err %v after %d node(s), want a stop after node 1", err, f.restarted.Load())
	}
	if j := f.journal(f.options()); j == nil || j.Phase != PhasePurged {
		t.Errorf("journal %+v, want phase purged (resume restarts the rest)", j)
	}
}

// A first Ctrl-C during the purge: the batch in hand finishes, nothing is restarted, the journal
// says purging; --resume finishes the purge with the same cut-off, then restarts.
func TestFakeStopDuringPurgeThenResume(t *testing.T) {
	f := newFakeJob(t)
	stop, fire := reauth.NewStop()
	o := f.options()
	o.Stop = stop
	purge := f.store.PurgeFunc
	f.store.PurgeFunc = func(ctx context.Context, po sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
		fire()
		if !po.Stop.Stopping() {
			t.Error("the purge was not given the run's Stop")
		}
		return sqlstore.PurgeResult{Deleted: 15, Batches: 3, CutoffID: po.CutoffID},
			&reauth.Error{Code: reauth.ExitInterrupted, Op: "purge", Err: errors.New("interrupted after 3 batches (15 rows deleted)")}
	}
	rep, err := f.run(o)
	if reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("err %v (code %d), want interrupted", err, reauth.CodeOf(err))
	}
	if !strings.Contains(reauth.HintOf(err)+err.Error(), "--resume") {
		t.Errorf("no resume hint: %v / %s", err, reauth.HintOf(err))
	}
	if f.rollout.Count("Run") != 0 || rep.Verified {
		t.Errorf("restarted after a stop during the purge, or verified: %+v", rep)
	}
	j := f.journal(o)
	if j == nil || j.Phase != PhasePurging || j.CutoffID != 100 || j.Deleted != 15 {
		t.Fatalf("journal %+v, want purging at cut-off 100 with 15 deleted", j)
	}

	f.store.PurgeFunc = purge // checks the cut-off is still 100
	o = f.options()
	o.Resume = true
	rep, err = f.run(o)
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, f.err.String())
	}
	if f.store.Count("Purge") != 2 || f.rollout.Count("Run") != 1 {
		t.Errorf("resume: purges %d, restarts %d; want 2, 1", f.store.Count("Purge"), f.rollout.Count("Run"))
	}
	if j := f.journal(o); j.Phase != PhaseDone || j.Deleted != 56 || len(j.Backups) != 2 {
		t.Errorf("journal %+v, want done, 15+41 deleted in 2 backup parts", j)
	}
	resumedNotProven(t, f, rep)
}

// resumedNotProven: a resumed run replays the tokens its backups hold; the fake purge wrote none,
// so nothing is replayed, and the run must say so rather than claim it.
func resumedNotProven(t *testing.T, f *fakeJob, rep *Report) {
	t.Helper()
	v := rep.Products[0].Verify
	if rep.Verified || v.Verified || v.Proof.Level != "tokens-only" || v.Proof.Sampled.From != "backup" {
		t.Errorf("verified %v, proof level %q from %q: a resumed run with nothing replayed must not be verified", rep.Verified, v.Proof.Level, v.Proof.Sampled.From)
	}
	if !strings.Contains(f.err.String(), "not verified") {
		t.Errorf("no warning says it is not verified:\n%s", f.err.String())
	}
}

// A run that failed in the restart resumes there: no second purge.
func TestFakeResumeAfterTheRestartFailedDoesNotPurgeAgain(t *testing.T) {
	f := newFakeJob(t)
	run := f.rollout.RunFunc
	f.rollout.RunFunc = func(context.Context, rollout.Plan, rollout.Options) (rollout.Result, error) {
		return rollout.Result{}, &reauth.Error{Code: reauth.ExitFailed, Op: "restart", Err: errors.New("n1 did not come back")}
	}
	if _, err := f.run(f.options()); err == nil {
		t.Fatal("a failed restart did not fail the run")
	}
	if j := f.journal(f.options()); j == nil || j.Phase != PhasePurged {
		t.Fatalf("journal %+v, want purged", j)
	}
	o := f.options()
	if _, err := f.run(o); reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(reauth.HintOf(err), "--resume") {
		t.Errorf("a new run over a stopped one: %v, want refused with the --resume hint", err)
	}
	f.rollout.RunFunc = run
	o.Resume = true
	rep, err := f.run(o)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.store.Count("Purge"); n != 1 {
		t.Errorf("purged %d times, want once", n)
	}
	if d := rep.Products[0].Deleted; d != 40 {
		t.Errorf("deleted %d users' tokens, want 40", d)
	}
	resumedNotProven(t, f, rep)
}

// A node that still accepts a purged token after its restart: never "verified", and the report
// names the node.
func TestFakeNodeStillAcceptingIsNotVerified(t *testing.T) {
	f := newFakeJob(t)
	f.stillAccepts = "n2"
	rep, err := f.run(f.options())
	if err == nil || rep.Verified {
		t.Fatalf("verified %v, err %v: a node that accepts a purged token must fail the run", rep.Verified, err)
	}
	if reauth.CodeOf(err) != reauth.ExitFailed {
		t.Errorf("exit %d, want %d", reauth.CodeOf(err), reauth.ExitFailed)
	}
	if !strings.Contains(err.Error(), "n2") || strings.Contains(err.Error(), "n1") {
		t.Errorf("the error should name n2 alone: %v", err)
	}
}

// Without a proof token, sample or cookie there is nothing to replay: not verified, and the
// report says why, even though every step succeeded.
func TestFakeNothingReplayedIsNotVerified(t *testing.T) {
	f := newFakeJob(t)
	f.inv.Products[0].ProofUser = ""
	o := f.options()
	o.ProofSample = -1
	rep, err := f.run(o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified || rep.Products[0].Verify.Verified {
		t.Error("verified with no cookie replayed")
	}
	if f.prober.Count("Replay") != 0 {
		t.Errorf("replayed %d cookies", f.prober.Count("Replay"))
	}
	if !strings.Contains(strings.Join(rep.Products[0].Warnings, "\n"), "not verified") && !strings.Contains(f.err.String(), "not verified") {
		t.Errorf("no warning says it is not verified: %v\n%s", rep.Products[0].Warnings, f.err.String())
	}
}

// defaults.purge_rest reaches the purge, the plan says what it costs, and the audit log's
// purge_start records it.
func TestFakeRunPurgeRest(t *testing.T) {
	f := newFakeJob(t)
	f.inv.Defaults.PurgeRest = 2
	purge := f.store.PurgeFunc
	var rest float64
	f.store.PurgeFunc = func(ctx context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
		rest = o.Rest
		return purge(ctx, o)
	}
	if _, err := f.run(f.options()); err != nil {
		t.Fatalf("run: %v\n%s", err, f.err.String())
	}
	if rest != 2 {
		t.Errorf("the purge rested %v× its batches, want defaults.purge_rest 2", rest)
	}
	if !strings.Contains(f.out.String(), "one batch at a time, resting 2× its time after it, at most 5s (defaults.purge_rest): ~3× as long or more") {
		t.Errorf("the plan does not show the rest:\n%s", f.out.String())
	}
	b, err := os.ReadFile(filepath.Join(f.dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\{.*"rest":2,.*"step":"purge_start".*\}$`).Match(b) {
		t.Errorf("the audit log's purge_start does not record the rest:\n%s", b)
	}
}

// The inventory's purge_rest takes what purge --rest takes: the inventory cannot import the
// database layer, so its bound is written twice and this keeps them together.
func TestPurgeRestBoundsAgree(t *testing.T) {
	src := func(r float64) []byte {
		return []byte(fmt.Sprintf("defaults: {purge_rest: %v}\nproducts:\n  - product: jira\n    home: /j\n    nodes:\n      - {name: n1, url: \"http://127.0.0.1:9\", restart: {exec: {command: x}}}\n", r))
	}
	for _, r := range []float64{0, 0.5, sqlstore.MaxRest, sqlstore.MaxRest + 0.5, -0.5} {
		_, perr := inventory.Parse(src(r), "reauth.yaml")
		cerr := sqlstore.CheckRest(r)
		if (perr == nil) != (cerr == nil) {
			t.Errorf("rest %v: the inventory says %v, purge --rest says %v", r, perr, cerr)
		}
	}
}

// A colleague's --dry-run while a run holds the lock (at its prompt, say): the dry run carries
// on read-only, saying who holds the lock, and prints the plan (#31 item 7).
func TestFakeDryRunCarriesOnWhenLocked(t *testing.T) {
	f := newFakeJob(t)
	f.store.LockFunc = func(context.Context, string) (func() error, error) {
		return nil, &reauth.Error{Code: reauth.ExitLocked, Op: "lock",
			Err: errors.New("another reauth run holds the lock: pid 7 application reauth run by alice on pts/3: awaiting confirmation")}
	}
	o := f.options()
	o.DryRun = true
	rep, err := f.run(o)
	if err != nil {
		t.Fatalf("dry run refused: %v", err)
	}
	if f.store.Count("Plan") == 0 || f.store.Count("Purge")+f.rollout.Count("Run") != 0 {
		t.Fatalf("calls %v", f.store.Order())
	}
	w := strings.Join(rep.Products[0].Warnings, "\n")
	if !strings.Contains(w, "alice on pts/3: awaiting confirmation") || !strings.Contains(w, "carries on read-only") ||
		!strings.Contains(f.err.String(), "carries on read-only") {
		t.Fatalf("warnings %q\nstderr %s", w, f.err.String())
	}
}

// notingStore is the fake token table with a lock that records its holder's notes.
type notingStore struct {
	*mock.TokenStore
	mu    sync.Mutex
	notes []string
}

func (s *notingStore) LockNote(_ context.Context, note string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes = append(s.notes, note)
}

// While a run holds the lock, its note says who runs what, and follows the run's phase: a
// colleague sees "awaiting confirmation" while the run waits at its prompt (#31 item 7).
func TestFakeLockNoteFollowsThePhase(t *testing.T) {
	f := newFakeJob(t)
	ns := &notingStore{TokenStore: f.store}
	o := f.options()
	o.seams.open = func(context.Context, *inventory.Inventory, *inventory.Product, atlassian.Product, *Options) (TokenStore, reauth.Database, error) {
		return ns, reauth.Database{Engine: reauth.Postgres, Host: "127.0.0.1", Port: 9, Name: "jira"}, nil
	}
	o.Yes = false
	var atPrompt []string
	o.Confirm = func(_, expect string) (bool, error) {
		ns.mu.Lock()
		atPrompt = append([]string(nil), ns.notes...)
		ns.mu.Unlock()
		return true, nil
	}
	if _, err := f.run(o); err != nil {
		t.Fatal(err)
	}
	if len(atPrompt) == 0 || !strings.HasPrefix(atPrompt[len(atPrompt)-1], "reauth run") || !strings.HasSuffix(atPrompt[len(atPrompt)-1], ": awaiting confirmation") {
		t.Fatalf("notes at the prompt: %q", atPrompt)
	}
	all := strings.Join(ns.notes, "\n")
	if !strings.Contains(all, ": purge") || !strings.Contains(all, ": verify") {
		t.Fatalf("notes %q", ns.notes)
	}
}

// checkingStore is the fake token table whose product knows the users admin and alice.
type checkingStore struct{ *mock.TokenStore }

func (checkingStore) UnknownUsers(_ context.Context, names []string) ([]sqlstore.Unknown, bool, error) {
	var out []sqlstore.Unknown
	for _, n := range names {
		if n != "admin" && n != "alice" {
			out = append(out, sqlstore.Unknown{Name: n, Suggest: map[string]string{"adminn": "admin"}[n]})
		}
	}
	return out, true, nil
}

// A typo in exclude_users refuses the run before anything changes, naming the near user and
// the way out; --allow-unknown-user turns it into a warning (#31 item 11).
func TestFakeExcludedTypoRefused(t *testing.T) {
	for _, allow := range []bool{false, true} {
		f := newFakeJob(t)
		f.inv.Products[0].ExcludeUsers = []string{"adminn"}
		o := f.options()
		o.seams.open = func(context.Context, *inventory.Inventory, *inventory.Product, atlassian.Product, *Options) (TokenStore, reauth.Database, error) {
			return checkingStore{f.store}, reauth.Database{Engine: reauth.Postgres, Host: "127.0.0.1", Port: 9, Name: "jira"}, nil
		}
		o.AllowUnknownUsers = allow
		rep, err := f.run(o)
		if !allow {
			if reauth.CodeOf(err) != reauth.ExitRefused || !strings.Contains(err.Error(), "adminn: no such user (did you mean admin?)") ||
				!strings.Contains(err.Error(), "--allow-unknown-user") || f.store.Count("Purge") != 0 {
				t.Fatalf("err %v (code %d), calls %v", err, reauth.CodeOf(err), f.store.Order())
			}
			continue
		}
		if err != nil || !strings.Contains(strings.Join(rep.Products[0].Warnings, "\n"), "adminn: no such user") {
			t.Fatalf("allowed: err %v, warnings %q", err, rep.Products[0].Warnings)
		}
	}
}

// A dead node left out with --skip-node: it is not restarted nor replayed against, the plan,
// the report and --json say so and why; a name no product has is refused before anything
// changes (#31 item 8).
func TestFakeSkipNode(t *testing.T) {
	f := newFakeJob(t)
	var planned []string
	f.rollout.RunFunc = func(ctx context.Context, p rollout.Plan, o rollout.Options) (rollout.Result, error) {
		var res rollout.Result
		for _, n := range p.Nodes {
			planned = append(planned, n.Name)
			res.Nodes = append(res.Nodes, rollout.NodeResult{Name: n.Name, Status: rollout.StatusRestarted, Restarted: true, WentDown: true})
		}
		f.restarted.Store(2) // the fake's nodes reject purged tokens once "both" restarted
		return res, nil
	}
	var replayed []string
	replay := f.prober.ReplayFunc
	f.prober.ReplayFunc = func(ctx context.Context, node, url string, c *http.Cookie) verify.Outcome {
		replayed = append(replayed, node)
		return replay(ctx, node, url, c)
	}
	o := f.options()
	o.SkipNodes = map[string]string{"n2": "disk dead, INC-4711"}
	rep, err := f.run(o)
	if err != nil {
		t.Fatalf("%v\n%s", err, f.err.String())
	}
	if fmt.Sprint(planned) != "[n1]" || slices.Contains(replayed, "n2") {
		t.Fatalf("restarted %v, replayed on %v", planned, replayed)
	}
	js, _ := json.Marshal(rep)
	if !strings.Contains(string(js), `"skipped_nodes":[{"name":"n2","reason":"disk dead, INC-4711"}]`) {
		t.Fatalf("--json: %s", js)
	}
	if !strings.Contains(f.out.String(), "skipped n2 (--skip-node: disk dead, INC-4711): not restarted") ||
		!strings.Contains(f.out.String(), "node n2           skipped (--skip-node: disk dead, INC-4711)") {
		t.Fatalf("plan and report:\n%s", f.out.String())
	}

	g := newFakeJob(t)
	o = g.options()
	o.SkipNodes = map[string]string{"n9": "typo"}
	if _, err := g.run(o); reauth.CodeOf(err) != reauth.ExitUsage || !strings.Contains(err.Error(), "--skip-node n9: no such node") ||
		!strings.Contains(reauth.HintOf(err), "n1, n2") || g.store.Count("Lock") != 0 {
		t.Fatalf("unknown node: %v (hint %q), calls %v", err, reauth.HintOf(err), g.store.Order())
	}
}
