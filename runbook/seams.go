package runbook

import (
	"context"
	"net/http"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/apimode"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/health"
	"github.com/reauth/reauth/inventory"
	"github.com/reauth/reauth/rollout"
	"github.com/reauth/reauth/sqlstore"
	"github.com/reauth/reauth/verify"
)

// The orchestration's seams: what runbook needs from a product's token table, from the restart
// of its nodes and from a node's answer to a cookie. The real ones are *sqlstore.Store, the
// rollout package, apimode and verify.Replayer; mock/ has function-field fakes of each, with which the
// orchestration's own logic (lock before plan, confirmation, resume, stop, what the report
// claims) is tested in milliseconds. They are declared here, where they are used: their
// vocabulary (purge options with backup recipients, rollout plans, replay outcomes) belongs to
// the packages below, and the root package stays free of them.

// TokenStore is one product's token table: locked, counted, purged with a backup, and read and
// written for the proof.
type TokenStore interface {
	Table() sqlstore.TableInfo
	// Lock takes the run lock on the database; CheckLock says whether it is still held.
	Lock(ctx context.Context, purpose string) (release func() error, err error)
	CheckLock(ctx context.Context) error
	CheckDeleteRights(ctx context.Context) error
	Plan(ctx context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgePlan, error)
	Purge(ctx context.Context, o sqlstore.PurgeOptions) (sqlstore.PurgeResult, error)
	Remaining(ctx context.Context, cutoffID int64, o sqlstore.PurgeOptions) (int64, error)
	SessionUsers(ctx context.Context, exclude []string) ([]string, error)
	Close() error

	// The proof: the database clock, a minted token, a sample of the tokens the purge removes.
	DBNow(ctx context.Context) (now time.Time, ok bool, err error)
	CreationTime() bool
	NewestCreated(ctx context.Context, cutoffID int64) (*time.Time, error)
	IssuedBefore(ctx context.Context, cutoffID int64, start time.Time, o sqlstore.PurgeOptions) (int64, error)
	UserRef(ctx context.Context, login string) (string, error)
	// Mint calls record with the row's id and token digest before it inserts the row;
	// DeleteMinted deletes only a row whose id and token match such a record.
	Mint(ctx context.Context, pc atlassian.ProofCookie, ref, login string, created time.Time, record func(id int64, digest string) error) (sqlstore.ProofToken, error)
	DeleteMinted(ctx context.Context, pc atlassian.ProofCookie, id int64, digest string) (int64, error)
	Sample(ctx context.Context, pc atlassian.ProofCookie, cutoffID, skipID int64, o sqlstore.PurgeOptions, n int) ([]sqlstore.ProofToken, error)
}

// Rollout restarts a product's nodes behind the health gates: rollout.Preflight and rollout.Run.
type Rollout interface {
	Preflight(ctx context.Context, p rollout.Plan, o rollout.Options) error
	Run(ctx context.Context, p rollout.Plan, o rollout.Options) (rollout.Result, error)
}

// NodeProber asks a product's nodes: whether one is RUNNING, and whether it accepts a cookie.
type NodeProber interface {
	Status(ctx context.Context, baseURL string) health.Result
	Replay(ctx context.Context, node, baseURL string, c *http.Cookie) verify.Outcome
}

// SessionAPI is a product's REST endpoint that ends a user's sessions on a node, without a
// restart: apimode.Detect and apimode.Invalidate.
type SessionAPI interface {
	Detect(ctx context.Context, client *http.Client, p atlassian.Product, baseURL string, auth apimode.Auth) (apimode.Support, error)
	Invalidate(ctx context.Context, o apimode.Options) (apimode.Result, error)
}

// seams are the real implementations unless a test replaced them.
type seams struct {
	// open opens a product's token table (OpenStoreTimeout).
	open func(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product, o *Options) (TokenStore, reauth.Database, error)
	// further opens one of the product's further token tables (atlassian.Product.FurtherTables:
	// Crowd's remember-me table) beside the first, on its connection; ok false: not there.
	further  func(ctx context.Context, t TokenStore, table atlassian.TokenTable) (c TokenStore, ok bool, err error)
	rollout  Rollout
	sessions SessionAPI
	// prober makes the node prober of a product (client: the run's, for status probes).
	prober func(prod atlassian.Product, client *http.Client) NodeProber
}

func (s *seams) defaults() {
	if s.open == nil {
		s.open = func(ctx context.Context, inv *inventory.Inventory, ip *inventory.Product, prod atlassian.Product, o *Options) (TokenStore, reauth.Database, error) {
			st, db, err := OpenStoreTimeout(ctx, inv, ip, prod, o.Getenv, o.Prompt, o.ConnectTimeout)
			if err != nil {
				return nil, db, err
			}
			return sqlTable{st}, db, nil
		}
	}
	if s.further == nil {
		s.further = func(ctx context.Context, t TokenStore, table atlassian.TokenTable) (TokenStore, bool, error) {
			st, ok := t.(sqlTable)
			if !ok {
				return nil, false, nil // a fake table has none
			}
			c, ok, err := st.Store.Beside(ctx, table)
			if !ok || err != nil {
				return nil, ok, err
			}
			return sqlTable{c}, true, nil
		}
	}
	if s.rollout == nil {
		s.rollout = realRollout{}
	}
	if s.sessions == nil {
		s.sessions = realSessionAPI{}
	}
	if s.prober == nil {
		s.prober = func(prod atlassian.Product, client *http.Client) NodeProber {
			return httpProber{Replayer: verify.Replayer{Product: prod, Client: verify.NewClient(client.Timeout)}, status: client}
		}
	}
}

// sqlTable is a *sqlstore.Store as a TokenStore.
type sqlTable struct{ *sqlstore.Store }

var _ TokenStore = sqlTable{}

// httpProber asks the nodes over HTTP: the status endpoint, and the product's "who am I" with the
// cookie (its replays never follow redirects).
type httpProber struct {
	verify.Replayer
	status *http.Client
}

func (p httpProber) Status(ctx context.Context, baseURL string) health.Result {
	return health.Probe(ctx, p.status, p.Product, baseURL)
}

type realRollout struct{}

func (realRollout) Preflight(ctx context.Context, p rollout.Plan, o rollout.Options) error {
	return rollout.Preflight(ctx, p, o)
}

func (realRollout) Run(ctx context.Context, p rollout.Plan, o rollout.Options) (rollout.Result, error) {
	return rollout.Run(ctx, p, o)
}

type realSessionAPI struct{}

func (realSessionAPI) Detect(ctx context.Context, client *http.Client, p atlassian.Product, baseURL string, auth apimode.Auth) (apimode.Support, error) {
	return apimode.Detect(ctx, client, p, baseURL, auth)
}

func (realSessionAPI) Invalidate(ctx context.Context, o apimode.Options) (apimode.Result, error) {
	return apimode.Invalidate(ctx, o)
}
