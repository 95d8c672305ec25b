package runbook

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

func schedUnits(names ...string) []*unit {
	var us []*unit
	for _, n := range names {
		us = append(us, &unit{name: n, o: &Options{Err: io.Discard}, tables: tables{db: reauth.Database{Engine: reauth.Postgres, Host: "db-" + n, Port: 5432}}})
	}
	return us
}

// before is an order rule: the unit named a finishes stage done before b begins stage begin.
func before(a string, done Stage, b string, begin Stage) OrderRule {
	return func(x, y *unit) (Stage, Stage, bool) {
		return done, begin, x.name == a && y.name == b
	}
}

// stillWaiting fails when an enter returned within 100 ms: it should still be waiting.
func stillWaiting(t *testing.T, entered <-chan error, what string) {
	t.Helper()
	select {
	case err := <-entered:
		t.Fatalf("%s (%v)", what, err)
	case <-time.After(100 * time.Millisecond):
	}
}

// The start order puts a product after those it waits for, else keeps the inventory's order; a
// cycle is refused, naming the products.
func TestStartOrder(t *testing.T) {
	us := schedUnits("jira", "crowd", "confluence")
	s := newScheduler(us, reauth.Stop{})
	s.order = []OrderRule{before("crowd", StageSessions, "jira", StageSessions)}
	got, err := s.startOrder()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range got {
		names = append(names, u.name)
	}
	if strings.Join(names, " ") != "crowd jira confluence" {
		t.Errorf("order %v", names)
	}
	s.order = append(s.order, before("jira", StagePurge, "crowd", StageStart))
	if _, err := s.startOrder(); err == nil || !strings.Contains(err.Error(), "jira, crowd") {
		t.Errorf("cycle: %v", err)
	}
}

// A product waits for the stage another must finish; it may begin once that one finished, and
// stops (an error naming both) when that one ended without finishing it.
func TestEnterWaitsForOrder(t *testing.T) {
	us := schedUnits("crowd", "jira")
	crowd, jira := us[0], us[1]
	s := newScheduler(us, reauth.Stop{})
	s.order = []OrderRule{before("crowd", StageSessions, "jira", StageSessions)}
	ctx := context.Background()
	if err := s.enter(ctx, jira, StagePurge); err != nil {
		t.Fatal(err) // the rule is about sessions: the purge may overlap
	}
	s.leave(jira, StagePurge, true)
	entered := make(chan error, 1)
	go func() { entered <- s.enter(ctx, jira, StageSessions) }()
	if err := s.enter(ctx, crowd, StageSessions); err != nil {
		t.Fatal(err)
	}
	stillWaiting(t, entered, "jira began its sessions before crowd finished its own")
	s.leave(crowd, StageSessions, true)
	if err := <-entered; err != nil {
		t.Fatal(err)
	}

	us = schedUnits("crowd", "jira")
	crowd, jira = us[0], us[1]
	s = newScheduler(us, reauth.Stop{})
	s.order = []OrderRule{before("crowd", StageSessions, "jira", StageSessions)}
	go func() { entered <- s.enter(ctx, jira, StageVerify) }() // a resumed jira: a later stage waits too
	s.end(crowd, false)
	if err := <-entered; err == nil || !strings.Contains(err.Error(), "crowd did not finish its sessions") {
		t.Fatalf("jira after crowd failed: %v", err)
	}
}

// Products on one database server purge one at a time; on different servers at once. Ctrl-C
// stops a product waiting before its purge, not one about to verify.
func TestSameServerPurgesOneAtATime(t *testing.T) {
	us := schedUnits("jira", "bitbucket", "confluence")
	us[1].db.Host = "DB-jira" // the same server, spelled otherwise
	jira, bb, conf := us[0], us[1], us[2]
	stop, fire := reauth.NewStop()
	s := newScheduler(us, stop)
	ctx := context.Background()
	if err := s.enter(ctx, jira, StagePurge); err != nil {
		t.Fatal(err)
	}
	if err := s.enter(ctx, conf, StagePurge); err != nil {
		t.Fatal(err) // another server: at once
	}
	entered := make(chan error, 1)
	go func() { entered <- s.enter(ctx, bb, StagePurge) }()
	stillWaiting(t, entered, "bitbucket purged while jira purged on its server")
	s.leave(jira, StagePurge, true)
	if err := <-entered; err != nil {
		t.Fatal(err)
	}
	go func() { entered <- s.enter(ctx, jira, StagePurge) }()
	fire()
	if err := <-entered; reauth.CodeOf(err) != reauth.ExitInterrupted {
		t.Fatalf("Ctrl-C while waiting: %v", err)
	}
	if err := s.enter(ctx, conf, StageVerify); err != nil {
		t.Fatalf("verify after Ctrl-C: %v", err)
	}
}

// The exit code of several products is the most severe of theirs.
func TestCombineMostSevere(t *testing.T) {
	us := schedUnits("jira", "confluence", "bamboo")
	us[0].err = reauth.ErrInterrupted
	us[1].err = reauth.WithHint(&reauth.Error{Code: reauth.ExitPartial, Op: "restart"}, "resume")
	err := combine(us)
	if reauth.CodeOf(err) != reauth.ExitPartial || reauth.HintOf(err) != "resume" || !strings.Contains(err.Error(), "2 products did not finish") ||
		!strings.Contains(err.Error(), "jira: interrupted") || !strings.Contains(err.Error(), "confluence: restart") {
		t.Fatalf("combined: %v (%d, %q)", err, reauth.CodeOf(err), reauth.HintOf(err))
	}
	if combine(us[2:]) != nil {
		t.Fatal("no error, combined, is an error")
	}
	if reauth.MostSevere(reauth.ExitOK, reauth.ExitLocked, reauth.ExitFailed, reauth.ExitPartial) != reauth.ExitFailed {
		t.Fatal("failed is the most severe")
	}
}

// Crowd's rule plugs into the scheduler: an application that trusts Crowd SSO begins ending its
// sessions only once Crowd's have ended (its purge may overlap); one that does not, at once.
func TestCrowdSessionsFirst(t *testing.T) {
	us := schedUnits("crowd", "jira", "bitbucket")
	crowd, jira, bb := us[0], us[1], us[2]
	crowd.prod, jira.prod, bb.prod = atlassian.Product{ID: atlassian.Crowd}, atlassian.Product{ID: atlassian.Jira}, atlassian.Product{ID: atlassian.Bitbucket}
	jira.report.SSO = &SSOReport{Provider: string(atlassian.Crowd)}
	s := newScheduler([]*unit{jira, bb, crowd}, reauth.Stop{})
	order, err := s.startOrder()
	if err != nil || order[0] != bb || order[1] != crowd || order[2] != jira {
		t.Fatalf("start order %v: crowd must start before jira", err)
	}
	ctx := context.Background()
	if err := s.enter(ctx, crowd, StageSessions); err != nil {
		t.Fatal(err)
	}
	if err := s.enter(ctx, jira, StagePurge); err != nil {
		t.Fatal(err)
	}
	if err := s.enter(ctx, bb, StageSessions); err != nil {
		t.Fatal(err) // bitbucket does not trust Crowd: no wait
	}
	entered := make(chan error, 1)
	go func() { entered <- s.enter(ctx, jira, StageSessions) }()
	stillWaiting(t, entered, "jira restarted while Crowd's sessions were still being ended")
	s.leave(crowd, StageSessions, true)
	if err := <-entered; err != nil {
		t.Fatal(err)
	}
}
