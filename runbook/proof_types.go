package runbook

import "time"

// Proof levels (ProofReport.Level).
const (
	// ProofCookies: every node rejected, after the run, at least one cookie it accepted before,
	// and no replayed cookie or session still logs in anywhere.
	ProofCookies = "cookies"
	// ProofTokensOnly: the token table was checked, but no node could be shown to reject a cookie
	// it accepted before (no cookie could be built, minted or sampled, and none was given).
	ProofTokensOnly = "tokens-only"
	// ProofNone: not even the token table could be checked.
	ProofNone = "none"
)

// Proof cookie sources (ProofReport.Sources keys, ProofFailure.Source).
const (
	SourceMinted  = "minted"       // reauth's own proof token row (no password needed)
	SourceSampled = "sampled"      // real tokens the purge deleted, kept in memory to replay
	SourceCanary  = "canary"       // the inventory's canary account, logged in before
	SourceJar     = "cookies_file" // --cookies
	SourceSession = "session"      // a node's session cookie, created on it before (auto-login)
)

// ProofReport is the proof of one product: the "proof" object of --json (verify.proof) and of the
// audit log's "proof" step. It never holds a token or cookie value: cookies are named by
// verify.Describe (name and a short fingerprint).
type ProofReport struct {
	Level           string         `json:"level"`
	CookiesReplayed int            `json:"cookies_replayed"`
	Sources         map[string]int `json:"sources"`
	Minted          *MintedProof   `json:"minted,omitempty"`
	Sampled         SampledProof   `json:"sampled"`
	Nodes           []NodeProof    `json:"nodes"`
	// FrontDoor is the same replay at the product's base_url (its node is "base_url"): a cookie
	// still accepted there is in AcceptedAfter too, and the product is not verified.
	FrontDoor     *NodeProof     `json:"front_door,omitempty"`
	AcceptedAfter []ProofFailure `json:"accepted_after,omitempty"`
	IssuedBefore  IssuedBy       `json:"issued_before"`
	// NotProven lists what this run could not show; HowToProve says what gives full proof.
	NotProven  []string `json:"not_proven,omitempty"`
	HowToProve string   `json:"how_to_prove,omitempty"`
}

// MintedProof is reauth's own proof token: one row, for User, with a negative id no product
// allocates; every node must accept it before the purge and reject it after.
type MintedProof struct {
	User           string   `json:"user"`
	RowID          int64    `json:"row_id"`
	AcceptedBefore []string `json:"accepted_before"` // nodes
	RejectedAfter  []string `json:"rejected_after"`  // nodes
	Removed        bool     `json:"removed"`         // the row is gone (purged, or deleted by id)
	Note           string   `json:"note,omitempty"`
}

// SampledProof says how many of the purged tokens were kept (in memory) to replay.
type SampledProof struct {
	Asked int    `json:"asked"`
	Taken int    `json:"taken"`
	Users int    `json:"users"`
	From  string `json:"from,omitempty"` // "table" (this run) or "backup" (--resume, verify)
	Note  string `json:"note,omitempty"`
}

// NodeProof is what one node showed: cookies it accepted before and rejected after, and the
// evidence that its in-memory sessions are gone.
type NodeProof struct {
	Node           string          `json:"node"`
	AcceptedBefore int             `json:"accepted_before"`
	RejectedAfter  int             `json:"rejected_after"` // of those accepted before
	AcceptedAfter  int             `json:"accepted_after"`
	Errors         int             `json:"errors,omitempty"` // replays that got no answer
	Restart        RestartEvidence `json:"restart"`
}

// RestartEvidence is why a node's in-memory sessions are believed gone.
type RestartEvidence struct {
	Mode     string `json:"mode"`      // restart, api, or earlier-run (verify)
	SeenDown bool   `json:"seen_down"` // restart: the node was seen down, then RUNNING
	Running  bool   `json:"running"`
	// Sessions created on this node before the purge (auto-logins of the replayed cookies),
	// replayed alone after it: each must be rejected (restart: the process lost its memory and
	// kept no persisted sessions; API: the sessions were ended).
	SessionsChecked  int    `json:"sessions_checked"`
	SessionsRejected int    `json:"sessions_rejected"`
	Evidence         string `json:"evidence"`
}

// ProofFailure is a cookie that still logs in after the run: sessions survive.
type ProofFailure struct {
	Node   string `json:"node"`
	User   string `json:"user"`
	Source string `json:"source"`
	Cookie string `json:"cookie"` // name#fingerprint, never the value
	Next   string `json:"next"`
}

// IssuedBy says how "issued before the run" was judged for the token count.
type IssuedBy struct {
	By    string     `json:"by"` // "created" (the time column, database clock) or "id" (id <= cut-off)
	Start *time.Time `json:"run_start,omitempty"`
	// LaterBelowCutoff counts rows with ids at or below the cut-off that were created after the
	// run started (ids from per-node banks): kept, and not counted as left over.
	LaterBelowCutoff int64  `json:"later_below_cutoff,omitempty"`
	Note             string `json:"note,omitempty"`
}
