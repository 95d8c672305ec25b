package rollout

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/rollout/execmethod"
)

// The progress line says which node of how many, its state, its time against its timeout, and
// how long the node before it took; the first Ctrl-C's line names the node in hand.
func TestProgressLine(t *testing.T) {
	var p Progress
	to := 20 * time.Minute
	p.Observe(Event{Node: "node1", Phase: PhaseRestarting, Index: 1, Of: 3, Timeout: to})
	if got := p.Observe(Event{Node: "node1", Phase: PhaseDone, State: "RUNNING", Elapsed: 4200 * time.Millisecond, Index: 1, Of: 3, Timeout: to}); !got.Final || got.String() != "node1 (1/3) restarted after 4.2s" {
		t.Fatalf("%+v %q", got, got.String())
	}
	if p.InHand() != "" {
		t.Fatalf("in hand after node1 ended: %q", p.InHand())
	}
	l := p.Observe(Event{Node: "node2", Phase: PhaseStarting, State: "STARTING", Elapsed: 31 * time.Second, Index: 2, Of: 3, Timeout: to})
	if l.Final || l.String() != "node2 (2/3) STARTING 31s / timeout 20m (node1 took 4.2s)" {
		t.Fatalf("%q", l.String())
	}
	if h := p.InHand(); !strings.HasPrefix(h, "node2 (up to 19m") {
		t.Fatalf("in hand: %q", h)
	}
}

// logSim is a sim restarter that says where its log is, as the ssh and kubernetes methods do.
type logSim struct{ *simRestarter }

func (logSim) LogPlace() string { return "journalctl -u jira on node2.example" }

// A node that did not come back: the error says it is not drained (no hooks), the hint and
// --json say where its log is in its method's terms, and where Tomcat's is.
func TestFailureSaysDrainedAndWhereTheLogIs(t *testing.T) {
	plan, _, rs := cluster(t, "", "fail-start")
	plan.Nodes[1].Restarter = logSim{rs[1]}
	plan.Nodes[1].Install = "/opt/atlassian/jira/"
	opts := fastOpts(t)
	res, err := Run(context.Background(), plan, opts)
	if err == nil {
		t.Fatal("node2 failed, the run did not")
	}
	n := res.Nodes[1]
	if !strings.Contains(n.Error, "the node is not drained (there are no drain hooks)") ||
		!strings.Contains(n.Log, "journalctl -u jira on node2.example") || !strings.Contains(n.Log, "/opt/atlassian/jira/logs/catalina.out") {
		t.Fatalf("%+v", n)
	}
	if h := reauth.HintOf(err); !strings.Contains(h, "why it did not come back: journalctl -u jira on node2.example") {
		t.Fatalf("hint: %s", h)
	}
	if res.Nodes[0].Log != "" {
		t.Fatalf("a node that came back has a log hint: %+v", res.Nodes[0])
	}
}

func TestSystemdUnit(t *testing.T) {
	for cmd, want := range map[string]string{
		"sudo systemctl restart jira":               "jira",
		"/usr/bin/systemctl --no-block start conf1": "conf1",
		"systemctl stop jira":                       "",
		"systemctl restart $UNIT":                   "",
		"/opt/jira/bin/start-jira.sh":               "",
	} {
		if got := execmethod.SystemdUnit(cmd); got != want {
			t.Errorf("SystemdUnit(%q) = %q, want %q", cmd, got, want)
		}
	}
	r := &execmethod.Restarter{Command: "sudo systemctl restart jira"}
	if got := logPlace(Node{Restarter: r}); !strings.HasPrefix(got, "journalctl -u jira; the product's atlassian-*.log") {
		t.Errorf("exec: %q", got)
	}
}

// A node that does not answer: preflight says why, in the terms the operator acts on, and how
// to leave a dead node out (#31 item 8).
func TestUnreachableCause(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(http.NotFoundHandler())
	defer plainSrv.Close()
	for url, want := range map[string]string{
		refused:    "unreachable: connection refused",
		tlsSrv.URL: "unreachable: TLS: the certificate is not trusted",
		"https://" + strings.TrimPrefix(plainSrv.URL, "http://"): "unreachable: TLS: the node answered plain HTTP",
	} {
		plan := Plan{Product: jira(t), Nodes: []Node{{Name: "node3", URL: url, Restarter: &simRestarter{}}}}
		err := Preflight(context.Background(), plan, fastOpts(t))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--skip-node node3 --reason") {
			t.Errorf("%s: %v", url, err)
		}
	}
	if c := unreachableCause(context.DeadlineExceeded); !strings.HasPrefix(c, "timed out") {
		t.Errorf("timeout: %q", c)
	}
	// No DNS query in a test (loopback only): the resolver's error as it comes wrapped.
	dns := fmt.Errorf("GET http://jira3.corp:8080/status: %w", &net.DNSError{Err: "no such host", Name: "jira3.corp", IsNotFound: true})
	if c := unreachableCause(dns); c != "DNS: jira3.corp does not resolve" {
		t.Errorf("dns: %q", c)
	}
}

// The full strategy's refusal of one-command nodes carries the YAML that fixes every one of them.
func TestFullRefusalGivesTheYAML(t *testing.T) {
	plan, _, _ := cluster(t, "", "")
	opts := fastOpts(t)
	opts.Strategy = StrategyFull
	err := Preflight(context.Background(), plan, opts)
	h := reauth.HintOf(err)
	if err == nil || !strings.Contains(h, "    - name: node1\n      restart:\n        sim:\n          stop: \"<command that stops the node>\"") ||
		!strings.Contains(h, "    - name: node2\n") || strings.Count(err.Error(), "nothing was changed") != 1 {
		t.Fatalf("%v\nhint: %s", err, h)
	}
}
