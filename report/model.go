// Package report turns one run's lines of the audit log into an evidence report people can read:
// a self-contained HTML page (inline CSS, an inline SVG timeline, no script, no external resource)
// or Markdown for tickets. It reads only the audit log, so the report written at the end of a run
// and one rebuilt later from the same log are byte for byte the same. The audit log holds names,
// counts and fingerprints only, so no token, password or cookie value can reach a report.
package report

import (
	"time"
)

// Outcome levels, the report's first line.
const (
	Verified = "verified" // cookie-level proof: old cookies accepted before, rejected by every node after
	Unproven = "unproven" // the run finished, but nothing showed that an old cookie stopped working
	Failed   = "failed"   // the run stopped with an error (or did not finish)
)

// Report is everything the page shows, built from the audit log by Build.
type Report struct {
	RunID    string
	Operator string
	Host     string
	Started  time.Time
	Ended    time.Time
	Finished bool // the run's end line is in the log
	ExitCode int
	Outcome  string // Verified, Unproven or Failed
	Reason   string // why, in one sentence
	Hint     string // the next step the run printed, on failure
	Summary  string // what was done, in one sentence
	Mode     string // --mode as given ("" = the inventory's)
	Resume   bool
	Cookies  string // base name of the --cookies file, if one was given
	AuditLog string // the audit log's path as the run wrote it

	// The incident's context, as the run was given it (--ticket, --reason), and what it ran with.
	Ticket         string
	IncidentReason string
	Version        string            // the reauth version (and commit) that ran
	Inventories    []InventoryDigest // the inventory files the run read, with their sha256
	ConfirmedBy    string            // who typed the confirmation (user, terminal), or "--yes"
	// Integrity is the audit log's hash chain up to the run's last line, in one sentence;
	// ChainBroken says that a link there does not match (lines edited, removed or inserted).
	Integrity   string
	ChainBroken bool

	Deleted            int64
	NodesRestarted     int
	SessionsBefore     int
	SessionsValidAfter int
	CookiesChecked     int

	Products   []*Product
	NotCovered []string // what a forced re-login does not touch, and what this run skipped
	Timeline   Timeline

	lastLine string // step and outcome of the run's last audit line
}

// InventoryDigest is one inventory file a run read and its sha256 then.
type InventoryDigest struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Product is what happened to one product.
type Product struct {
	ID, Name, Status string
	Database, Table  string
	Mode, Why        string
	Canary           string
	CookiesGiven     int
	ResumedRun       string
	ResumedPhase     string
	Warnings         []string

	CutoffID         int64
	TokensBefore     int64 // rows in the table at the cut-off (-1 unknown)
	ToDelete         int64
	ExcludedTokens   int64 // tokens of excluded accounts issued before the cut-off, kept (-1 unknown)
	Deleted          int64
	Kept             int64 // rows left after the purge
	KeptAfterCutoff  int64 // tokens issued after the cut-off (users who logged in again), kept (-1 unknown)
	TokensRemaining  int64 // tokens issued before the cut-off left after the run (-1 not counted)
	Excluded         []string
	TopUsers         []UserCount
	UsersWithTokens  int
	Backups          []Backup
	RestoreTarget    string
	Purged, Verified bool

	Lock   time.Time
	Purge  Span
	API    *API
	Verify *Verify
	Fail   *Failure
	Nodes  []*Node
	// Waves are the starts of a rolling restart's waves (--max-unavailable > 1), in order.
	Waves []Wave
	Proof []ProofRow // the cookies replayed, those still accepted after first; at most maxProofRows
	// ProofHidden is how many more cookies were replayed than Proof shows (each one is in
	// ProofNodes' counts).
	ProofHidden int
	ProofNodes  []ProofNode
	ProofObject *ProofObject // the run's own judgement, when its audit log has one
	// Credentials are the product's tokens and keys by kind (counts only), which outlive the run.
	Credentials []CredentialCount
	// IdP is the SSO identity provider, when SSO was on, and what became of its sessions.
	IdP *IdP
}

// CredentialCount is how many credentials of one kind a product held at the run.
type CredentialCount struct {
	Kind         string `json:"kind"`
	Total        int    `json:"total"`
	NeverExpires int    `json:"never_expires"`
	AdminOwned   int    `json:"admin_owned"`
}

// IdP is the product's SSO identity provider: its family, issuer, the call that ends its
// sessions, and the inventory idp hook's outcome (none, ok, failed).
type IdP struct {
	Family, Issuer, Call, Hook, Error string
}

// Wave is the start of one wave of a rolling restart: its nodes go down together.
type Wave struct {
	Time  time.Time
	Label string // "wave 2: node3, node4"
}

// ProofNode sums up the replayed cookies on one node.
type ProofNode struct {
	Node           string
	Replayed       int // cookies replayed after the run
	AcceptedBefore int
	RejectedAfter  int
	AcceptedAfter  int
	Errors         int
}

// UserCount is one user's number of tokens at the plan (a name and a count, never a value).
type UserCount struct {
	User  string
	Count int64
}

// Span is a step with a start and an end (zero when not reached).
type Span struct {
	Start, End time.Time
	Failed     bool
}

// Backup is one backup file of a purge.
type Backup struct {
	File   string
	SHA256 string // "" when the purge stopped before verifying it (and no resumed run surveyed it)
	Rows   int64  // -1: not known (a run killed before recording it; an encrypted part cut short)
	// CutShort: the file has no trailer (its purge stopped): every complete batch in it is
	// restorable with --accept-truncated.
	CutShort  bool
	Encrypted bool
	counted   bool // Rows came from a purge or backup_part line (the product's count has them)
	// Recipients is how many keys it is encrypted to; UsefulUntil says until when its tokens
	// could log users in (shred it after that).
	Recipients  int
	UsefulUntil string
	Restore     string // the command that puts its rows back
}

// API is API mode's run: the calls that ended the users' sessions.
type API struct {
	Span
	Users, Ended, NotFound, FailedUsers, Requests int
	P99MS                                         float64
}

// Verify is the verify step's result.
type Verify struct {
	Span
	Verified           bool
	TokensChecked      bool
	TokensRemaining    int64
	CookiesChecked     int
	SessionsBefore     int
	SessionsValidAfter int
	NodesRunning       bool
	NodeStates         map[string]string
	Problems           []string
}

// Failure is where a product's run stopped.
type Failure struct {
	Time  time.Time
	Phase string
	Error string
}

// Node is one node: its plan and every phase it went through, with real times.
type Node struct {
	Name, URL, Method string
	Status            string // restarted, failed, untouched, skipped (already restarted)
	Error             string
	WentDown          bool
	ReadyAfterMS      int64
	Wave              int // the wave of a rolling restart that took it down (0: none logged)
	Phases            []Phase
	Down, Running     time.Time // seen down; first RUNNING after it
	Downtime          time.Duration
	Evidence          string // why we know it restarted
}

// Phase is one rollout phase of a node, as logged.
type Phase struct {
	Name    string // drain, restarting, down, starting, stable, undrain, restarted, failed, skipped
	State   string
	Time    time.Time
	Message string
}

// ProofRow is one replayed cookie: which nodes accepted it before the run and after it.
type ProofRow struct {
	Source string
	Cookie string // name#fingerprint, never the value
	Before map[string]string
	After  map[string]string
}

// Verdicts of a replayed cookie on a node.
const (
	Accepted = "accepted"
	Rejected = "rejected"
	NoAnswer = "error"
)
