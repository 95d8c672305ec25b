// Package mock has function-field fakes of the orchestration's seams (runbook.TokenStore,
// runbook.Rollout, runbook.NodeProber, runbook.SessionAPI), for tests of runbook's own logic that need no database,
// node or network: each method calls its Func field; a nil field returns zero values and no error
// (Replay: the cookie rejected). Every call is counted in Calls, by method name.
//
// Tests of what the real pieces do use the real ones (PostgreSQL, MariaDB, sshd, node processes):
// these fakes stand in only where the logic under test is runbook's.
package mock

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/health"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/sqlstore"
	"github.com/reauth/reauth/verify"
)

// Calls counts calls by method name; safe for concurrent use.
type Calls struct {
	mu    sync.Mutex
	order []string
}

func (c *Calls) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order = append(c.order, name)
}

// Order is every call so far, in order.
func (c *Calls) Order() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.order...)
}

// Count is how many times name was called.
func (c *Calls) Count(name string) int {
	n := 0
	for _, o := range c.Order() {
		if o == name {
			n++
		}
	}
	return n
}

// TokenStore is a fake token table.
type TokenStore struct {
	Calls

	TableFunc             func() sqlstore.TableInfo
	LockFunc              func(ctx context.Context, purpose string) (func() error, error)
	CheckLockFunc         func(ctx context.Context) error
	CheckDeleteRightsFunc func(ctx context.Context) error
	PlanFunc              func(ctx context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgePlan, error)
	PurgeFunc             func(ctx context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error)
	RemainingFunc         func(ctx context.Context, cutoffID int64, o sqlstore.PurgeOptions) (int64, error)
	SessionUsersFunc      func(ctx context.Context, exclude []string) ([]string, error)
	CloseFunc             func() error
	DBNowFunc             func(ctx context.Context) (time.Time, bool, error)
	CreationTimeFunc      func() bool
	NewestCreatedFunc     func(ctx context.Context, cutoffID int64) (*time.Time, error)
	IssuedBeforeFunc      func(ctx context.Context, cutoffID int64, start time.Time, o sqlstore.PurgeOptions) (int64, error)
	UserRefFunc           func(ctx context.Context, login string) (string, error)
	MintFunc              func(ctx context.Context, pc atlassian.ProofCookie, ref, login string, created time.Time, record func(id int64, digest string) error) (sqlstore.ProofToken, error)
	DeleteMintedFunc      func(ctx context.Context, pc atlassian.ProofCookie, id int64, digest string) (int64, error)
	SampleFunc            func(ctx context.Context, pc atlassian.ProofCookie, cutoffID, skipID int64, o sqlstore.PurgeOptions, n int) ([]sqlstore.ProofToken, error)
}

func (s *TokenStore) Table() sqlstore.TableInfo {
	s.add("Table")
	if s.TableFunc == nil {
		return sqlstore.TableInfo{}
	}
	return s.TableFunc()
}

func (s *TokenStore) Lock(ctx context.Context, purpose string) (func() error, error) {
	s.add("Lock")
	if s.LockFunc == nil {
		return func() error { s.add("Unlock"); return nil }, nil
	}
	return s.LockFunc(ctx, purpose)
}

func (s *TokenStore) CheckLock(ctx context.Context) error {
	s.add("CheckLock")
	if s.CheckLockFunc == nil {
		return nil
	}
	return s.CheckLockFunc(ctx)
}

func (s *TokenStore) CheckDeleteRights(ctx context.Context) error {
	s.add("CheckDeleteRights")
	if s.CheckDeleteRightsFunc == nil {
		return nil
	}
	return s.CheckDeleteRightsFunc(ctx)
}

func (s *TokenStore) Plan(ctx context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgePlan, error) {
	s.add("Plan")
	if s.PlanFunc == nil {
		return sqlstore.PurgePlan{}, nil
	}
	return s.PlanFunc(ctx, o)
}

func (s *TokenStore) Purge(ctx context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error) {
	s.add("Purge")
	if s.PurgeFunc == nil {
		return sqlstore.PurgeResult{CutoffID: o.CutoffID}, nil
	}
	return s.PurgeFunc(ctx, o)
}

func (s *TokenStore) Remaining(ctx context.Context, cutoffID int64, o sqlstore.PurgeOptions) (int64, error) {
	s.add("Remaining")
	if s.RemainingFunc == nil {
		return 0, nil
	}
	return s.RemainingFunc(ctx, cutoffID, o)
}

func (s *TokenStore) SessionUsers(ctx context.Context, exclude []string) ([]string, error) {
	s.add("SessionUsers")
	if s.SessionUsersFunc == nil {
		return nil, nil
	}
	return s.SessionUsersFunc(ctx, exclude)
}

func (s *TokenStore) Close() error {
	s.add("Close")
	if s.CloseFunc == nil {
		return nil
	}
	return s.CloseFunc()
}

func (s *TokenStore) DBNow(ctx context.Context) (time.Time, bool, error) {
	s.add("DBNow")
	if s.DBNowFunc == nil {
		return time.Time{}, false, nil
	}
	return s.DBNowFunc(ctx)
}

func (s *TokenStore) CreationTime() bool {
	s.add("CreationTime")
	return s.CreationTimeFunc != nil && s.CreationTimeFunc()
}

func (s *TokenStore) NewestCreated(ctx context.Context, cutoffID int64) (*time.Time, error) {
	s.add("NewestCreated")
	if s.NewestCreatedFunc == nil {
		return nil, nil
	}
	return s.NewestCreatedFunc(ctx, cutoffID)
}

func (s *TokenStore) IssuedBefore(ctx context.Context, cutoffID int64, start time.Time, o sqlstore.PurgeOptions) (int64, error) {
	s.add("IssuedBefore")
	if s.IssuedBeforeFunc == nil {
		return 0, nil
	}
	return s.IssuedBeforeFunc(ctx, cutoffID, start, o)
}

func (s *TokenStore) UserRef(ctx context.Context, login string) (string, error) {
	s.add("UserRef")
	if s.UserRefFunc == nil {
		return login, nil
	}
	return s.UserRefFunc(ctx, login)
}

func (s *TokenStore) Mint(ctx context.Context, pc atlassian.ProofCookie, ref, login string, created time.Time,
	record func(id int64, digest string) error) (sqlstore.ProofToken, error) {
	s.add("Mint")
	if s.MintFunc == nil {
		return sqlstore.ProofToken{}, nil
	}
	return s.MintFunc(ctx, pc, ref, login, created, record)
}

func (s *TokenStore) DeleteMinted(ctx context.Context, pc atlassian.ProofCookie, id int64, digest string) (int64, error) {
	s.add("DeleteMinted")
	if s.DeleteMintedFunc == nil {
		return 0, nil
	}
	return s.DeleteMintedFunc(ctx, pc, id, digest)
}

func (s *TokenStore) Sample(ctx context.Context, pc atlassian.ProofCookie, cutoffID, skipID int64, o sqlstore.PurgeOptions, n int) ([]sqlstore.ProofToken, error) {
	s.add("Sample")
	if s.SampleFunc == nil {
		return nil, nil
	}
	return s.SampleFunc(ctx, pc, cutoffID, skipID, o, n)
}

// Rollout is a fake restart of a product's nodes.
type Rollout struct {
	Calls
	PreflightFunc func(ctx context.Context, p rollout.Plan, o rollout.Options) error
	RunFunc       func(ctx context.Context, p rollout.Plan, o rollout.Options) (rollout.Result, error)
}

func (r *Rollout) Preflight(ctx context.Context, p rollout.Plan, o rollout.Options) error {
	r.add("Preflight")
	if r.PreflightFunc == nil {
		return nil
	}
	return r.PreflightFunc(ctx, p, o)
}

// Run without RunFunc reports every node restarted: seen down, then RUNNING.
func (r *Rollout) Run(ctx context.Context, p rollout.Plan, o rollout.Options) (rollout.Result, error) {
	r.add("Run")
	if r.RunFunc == nil {
		var res rollout.Result
		for _, n := range p.Nodes {
			res.Nodes = append(res.Nodes, rollout.NodeResult{Name: n.Name, Status: rollout.StatusRestarted, WentDown: true})
		}
		return res, nil
	}
	return r.RunFunc(ctx, p, o)
}

// NodeProber is a fake product's nodes answering status probes and cookies.
type NodeProber struct {
	Calls
	StatusFunc func(ctx context.Context, baseURL string) health.Result
	ReplayFunc func(ctx context.Context, node, baseURL string, c *http.Cookie) verify.Outcome
}

// Status without StatusFunc: the node is RUNNING.
func (p *NodeProber) Status(ctx context.Context, baseURL string) health.Result {
	p.add("Status")
	if p.StatusFunc == nil {
		return health.Result{HTTP: 200, State: "RUNNING", Ready: true}
	}
	return p.StatusFunc(ctx, baseURL)
}

// Replay without ReplayFunc: the node rejects the cookie.
func (p *NodeProber) Replay(ctx context.Context, node, baseURL string, c *http.Cookie) verify.Outcome {
	p.add("Replay")
	if p.ReplayFunc == nil {
		return verify.Outcome{Node: node, Cookie: verify.Describe(c)}
	}
	return p.ReplayFunc(ctx, node, baseURL, c)
}

// SessionAPI is a fake product's session endpoint.
type SessionAPI struct {
	Calls
	DetectFunc     func(ctx context.Context, client *http.Client, p atlassian.Product, baseURL string, auth apimode.Auth) (apimode.Support, error)
	InvalidateFunc func(ctx context.Context, o apimode.Options) (apimode.Result, error)
}

// Detect without DetectFunc: the endpoint is there and the credentials may use it.
func (a *SessionAPI) Detect(ctx context.Context, client *http.Client, p atlassian.Product, baseURL string, auth apimode.Auth) (apimode.Support, error) {
	a.add("Detect")
	if a.DetectFunc == nil {
		return apimode.Support{Supported: true, Why: "fake session API"}, nil
	}
	return a.DetectFunc(ctx, client, p, baseURL, auth)
}

// Invalidate without InvalidateFunc ends every user's sessions.
func (a *SessionAPI) Invalidate(ctx context.Context, o apimode.Options) (apimode.Result, error) {
	a.add("Invalidate")
	if a.InvalidateFunc == nil {
		return apimode.Result{Users: len(o.Users), Ended: len(o.Users), NotFound: []string{}, Failed: []apimode.UserFailure{}, NotDone: []string{}}, nil
	}
	return a.InvalidateFunc(ctx, o)
}
