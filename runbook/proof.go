package runbook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
	"github.com/reauth/reauth/sqlstore"
	"github.com/reauth/reauth/verify"
)

// DefaultProofSample is how many of the purged tokens a run keeps (in memory) to replay after.
const DefaultProofSample = 20

// proofCookie is one cookie the proof replays on every node, with what each node said before
// the purge. Its value lives only here, in memory.
type proofCookie struct {
	label  string // how reports name it (source and user), never its value
	source string
	user   string
	rowID  int64 // minted and sampled rows
	cookie *http.Cookie
	before map[string]bool // node -> accepted before the purge
	// session is the session cookie a node set when it accepted the cookie before (auto-login):
	// replayed alone after, it shows whether the node's in-memory sessions are gone.
	session map[string]*http.Cookie
}

// proofFormat is how this product's token rows become cookies, or why they cannot.
func (u *unit) proofFormat() (atlassian.ProofCookie, string) {
	pc := u.prod.Proof
	if u.inv.ProofCookie != "" {
		pc.Format, pc.Confirmed = u.inv.ProofCookie, true
		if pc.TokenColumn == "" {
			pc.TokenColumn = "token"
		}
	}
	switch {
	case !pc.Usable():
		return pc, fmt.Sprintf("reauth does not know how %s builds its remember-me cookie from a token row", u.prod.Name)
	case !pc.Confirmed:
		return pc, fmt.Sprintf("%s's remember-me cookie format (%s) is UNCONFIRMED, so reauth neither mints nor samples tokens: "+
			"confirm it with proof_cookie: in the inventory, or prove with a canary or --cookies", u.prod.Name, pc.Format)
	}
	return pc, ""
}

// proofCookieName is the name of the cookie a token row becomes: the remember-me cookie, or the
// product's own (Crowd's crowd.token_key).
func (u *unit) proofCookieName() string {
	if c := u.prod.Proof.Cookie; c != "" {
		return c
	}
	return u.prod.RememberMeCookie
}

// proofUser is the account of the minted token: proof_user, else the admin's user.
func (u *unit) proofUser() string {
	if u.inv.ProofUser != "" {
		return u.inv.ProofUser
	}
	if u.inv.Admin != nil {
		return u.inv.Admin.User
	}
	return ""
}

func (u *unit) proofSample() int {
	switch n := u.o.ProofSample; {
	case n < 0:
		return 0
	case n == 0:
		return DefaultProofSample
	default:
		return n
	}
}

func (u *unit) nodeNames() []string {
	out := make([]string, 0, len(u.rplan.Nodes))
	for _, n := range u.rplan.Nodes {
		out = append(out, n.Name)
	}
	return out
}

// proofState is what a unit replays to prove the run: the canary's password, the cookies of
// --cookies and of the sessions captured before, the proof cookies, and the last round's outcomes.
type proofState struct {
	canary   reauth.Secret
	jar      []*http.Cookie
	captured []session
	proof    []*proofCookie // the cookies the proof replays (values in memory only)
	// proofStartDB is the database clock at the run's start (nil where it is not read).
	proofStartDB *time.Time
	// replayed is every outcome of the last replay round (before or after), for the audit log.
	replayed []verify.Outcome
}

// prober reads the nodes' status and replays proof cookies for the unit's product; it
// never follows redirects.
func (u *unit) prober() NodeProber { return u.o.seams.prober(u.prod, u.o.HTTP) }

// replayBefore replays c on every node before the purge: the control that shows a later
// rejection means something. It keeps the session cookie each accepting node set.
func (u *unit) replayBefore(ctx context.Context, c *proofCookie) {
	r := u.prober()
	c.before, c.session = map[string]bool{}, map[string]*http.Cookie{}
	for _, n := range u.proofTargets() {
		out := r.Replay(ctx, n.Name, n.URL, c.cookie)
		out.Label = c.name()
		u.replayed = append(u.replayed, out)
		c.before[n.Name] = out.Accepted
		if !out.Accepted {
			continue
		}
		if c.user == "" {
			c.user = out.User
		}
		for _, s := range out.Set {
			if s.Name == u.prod.SessionCookie {
				c.session[n.Name] = s
			}
		}
	}
}

// name is how audit lines and reports name the cookie.
func (c *proofCookie) name() string {
	if c.label != "" {
		return c.label
	}
	switch c.source {
	case SourceMinted:
		return "minted proof token of " + c.user
	case SourceSampled:
		return "sampled token of " + c.user
	}
	return c.source + " " + verify.Describe(c.cookie)
}

// proofStart runs under the lock, before the cut-off: it removes the proof tokens a killed run
// recorded as minted (only those, by id and token), reads the database clock, mints the proof
// token (recorded before its insert) and has every node accept it.
func (u *unit) proofStart(ctx context.Context) {
	pr := &u.report.Verify.Proof
	u.replayed = u.replayed[:0]
	u.cleanMinted(ctx)
	if u.store.CreationTime() {
		if now, ok, err := u.store.DBNow(ctx); err != nil {
			u.report.Warnings = append(u.report.Warnings, "proof: "+err.Error())
		} else if ok {
			u.proofStartDB = &now
		}
	}
	pc, why := u.proofFormat()
	user := u.proofUser()
	switch {
	case why != "":
		pr.Minted = &MintedProof{Note: why}
		return
	case user == "":
		pr.Minted = &MintedProof{Note: "no proof_user and no admin: user in the inventory: no proof token minted"}
		return
	case excludedUser(u.inv.ExcludeUsers, user):
		pr.Minted = &MintedProof{User: user, Note: "the proof user is in exclude_users (the purge keeps its tokens): set proof_user to another account"}
		return
	}
	pr.Minted = &MintedProof{User: user}
	ref, err := u.store.UserRef(ctx, user)
	if err != nil {
		pr.Minted.Note = "no proof token: " + err.Error()
		return
	}
	created := time.Now().UTC()
	if u.proofStartDB != nil {
		created = *u.proofStartDB
	}
	tok, err := u.store.Mint(ctx, pc, ref, user, created.Add(-2*time.Second), u.recordMinted(user))
	if err == nil {
		err = u.recordMinted(user)(tok.ID, sqlstore.TokenDigest(tok.Token)) // a no-op unless Mint skipped its hook
	}
	if err != nil {
		pr.Minted.Note = "no proof token: " + err.Error()
		u.step("proof-mint", "error", map[string]any{"user": user, "error": err.Error()})
		return
	}
	u.journal.ProofRowID, u.journal.MintedID, u.journal.ProofUser, pr.Minted.RowID = tok.ID, tok.ID, user, tok.ID
	u.step("proof-mint", "ok", map[string]any{"user": user, "row_id": tok.ID})
	c := &proofCookie{source: SourceMinted, user: user, rowID: tok.ID,
		cookie: &http.Cookie{Name: u.proofCookieName(), Value: pc.Value(tok.ID, tok.Series, tok.Token)}}
	u.replayBefore(ctx, c)
	for _, n := range u.nodeNames() {
		if c.before[n] {
			pr.Minted.AcceptedBefore = append(pr.Minted.AcceptedBefore, n)
		}
	}
	if len(pr.Minted.AcceptedBefore) < len(u.rplan.Nodes) {
		pr.Minted.Note = fmt.Sprintf("accepted before by %d of %d node(s): where it was not, its rejection after proves nothing "+
			"(check proof_cookie and that %s can log in)", len(pr.Minted.AcceptedBefore), len(u.rplan.Nodes), user)
	}
	u.proof = append(u.proof, c)
}

// proofSampleAndControls runs after the cut-off, before the purge: it keeps up to N of the rows
// the purge will delete (spread over users), has every node replay them and the canary's and
// --cookies' cookies (the control), and records in the journal which rows every node accepted.
func (u *unit) proofSampleAndControls(ctx context.Context, cutoffID int64) {
	pr := &u.report.Verify.Proof
	u.decideIssuedBy(ctx, cutoffID)
	pr.Sampled = SampledProof{Asked: u.proofSample(), From: "table"}
	if pc, why := u.proofFormat(); why != "" {
		pr.Sampled.Note = why
	} else if n := u.proofSample(); n > 0 {
		skip := u.journal.ProofRowID
		rows, err := u.store.Sample(ctx, pc, cutoffID, skip, sqlstore.PurgeOptions{ExcludeUsers: u.inv.ExcludeUsers}, n)
		if err != nil {
			pr.Sampled.Note = "no sample: " + err.Error()
		}
		users := map[string]bool{}
		for _, t := range rows {
			users[t.User] = true
			c := &proofCookie{source: SourceSampled, user: t.User, rowID: t.ID,
				cookie: &http.Cookie{Name: u.proofCookieName(), Value: pc.Value(t.ID, t.Series, t.Token)}}
			u.replayBefore(ctx, c)
			u.proof = append(u.proof, c)
		}
		pr.Sampled.Taken, pr.Sampled.Users = len(rows), len(users)
	}
	for _, s := range u.sessions() {
		src := SourceJar
		user := ""
		if u.inv.Canary != nil && strings.HasPrefix(s.label, "canary ") {
			src, user = SourceCanary, u.inv.Canary.User
		}
		for _, ck := range s.cookies {
			c := &proofCookie{label: s.label, source: src, user: user, cookie: ck}
			u.replayBefore(ctx, c)
			u.proof = append(u.proof, c)
		}
	}
	u.journal.ProofIDs = u.journal.ProofIDs[:0]
	valid := 0
	for _, c := range u.proof {
		all, any := true, false
		for _, n := range u.nodeNames() {
			all, any = all && c.before[n], any || c.before[n]
		}
		if any {
			valid++
		}
		if all && c.rowID != 0 {
			u.journal.ProofIDs = append(u.journal.ProofIDs, c.rowID)
		}
	}
	u.report.Verify.SessionsBefore = valid
	u.logReplay("before", u.replayed)
	u.step("proof-before", "ok", map[string]any{"minted": pr.Minted != nil && pr.Minted.RowID != 0, "sampled": pr.Sampled.Taken,
		"sampled_users": pr.Sampled.Users, "cookies": len(u.proof), "accepted_before": valid, "issued_before_by": pr.IssuedBefore.By})
}

// decideIssuedBy chooses how "issued before the run" is judged: by the creation time against the
// database clock where the table has one and the clock is read, unless a token at or below the
// cut-off already looks newer than the run's start (the product writes times ahead of the
// database's clock, e.g. local time): then by id, which is always safe (a superset).
func (u *unit) decideIssuedBy(ctx context.Context, cutoffID int64) {
	ib := &u.report.Verify.Proof.IssuedBefore
	ib.By = "id"
	switch {
	case !u.store.CreationTime():
		ib.Note = "the token table has no creation-time column: judged by id (id <= cut-off)"
	case u.proofStartDB == nil:
		ib.Note = "the database clock is not read on this engine: judged by id (id <= cut-off)"
	default:
		newest, err := u.store.NewestCreated(ctx, cutoffID)
		if err != nil {
			ib.Note = "judged by id: " + err.Error()
			break
		}
		if newest != nil && !newest.Before(*u.proofStartDB) {
			ib.Note = fmt.Sprintf("judged by id: a token issued before the cut-off is dated %s, not before the run's start %s by the database clock "+
				"(the product writes another clock or time zone)", newest.Format(time.RFC3339), u.proofStartDB.Format(time.RFC3339))
			break
		}
		ib.By, ib.Start = "created", u.proofStartDB
		ib.Note = "judged by the creation time against the database clock at the run's start (ids may come from per-node banks)"
	}
	u.journal.IssuedBy, u.journal.RunStartDB = ib.By, ib.Start
}

// dropMinted deletes the minted proof token by its id and token (a no-op once the purge took it). It runs
// on every exit path of a run, with its own short deadline so that a cancelled run still cleans up.
func (u *unit) dropMinted(ctx context.Context) {
	id := u.journal.ProofRowID
	if id == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	k, err := u.deleteMinted(ctx, id)
	if err != nil && !errors.Is(err, sqlstore.ErrNotMinted) { // another token at the id: ours is gone
		u.step("proof-delete", "error", map[string]any{"row_id": id, "error": err.Error()})
		fmt.Fprintf(u.o.Err, "%s: warning: %v; the next run deletes it (by its id and token)\n", u.name, err)
		return
	}
	u.step("proof-delete", "ok", map[string]any{"row_id": id, "deleted": k})
	if m := u.report.Verify.Proof.Minted; m != nil {
		m.Removed = true
	}
	u.journal.ProofRowID = 0
	_ = u.journal.save(u.o.Now())
}

func excludedUser(list []string, user string) bool {
	for _, x := range list {
		if strings.EqualFold(x, user) {
			return true
		}
	}
	return false
}
