package report_test

import (
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/reauth/reauth/internal/demo"
	"github.com/reauth/reauth/internal/testenv"
)

// chromium finds Debian's chromium (installed by .ci/services.sh): missing fails in CI, else skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "a headless Chromium (Debian's chromium package: apt-get install chromium)")
	return ""
}

// artifacts is where a test leaves files for people to look at: $REAUTH_ARTIFACTS, else a
// temporary directory (its path is logged).
func artifacts(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("REAUTH_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// The demo's report, opened in a real headless Chromium: it loads with no console error and no
// request but its own file (no external resource), the SVG timeline has one lane per node, the
// outcome line says what the run said, and it prints. A screenshot and the PDF are kept.
func TestDemoReportInChromium(t *testing.T) {
	bin := chromium(t)
	out := artifacts(t)
	path := filepath.Join(out, "report-demo.html")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := demo.Run(ctx, demo.Options{Out: io.Discard, Err: io.Discard, Exe: testenv.Binary(t), Users: 8, Report: path})
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	if res.Report != path || !res.Verified {
		t.Fatalf("demo result: %+v", res)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.WindowSize(1100, 1400))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	var mu sync.Mutex
	var problems, requests []string
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		// Runs in the tab's loop: record and return.
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == "error" || e.Type == "warning" || e.Type == "assert" {
				problems = append(problems, "console "+string(e.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == "error" || e.Entry.Level == "warning" {
				problems = append(problems, "log "+string(e.Entry.Level)+": "+e.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			requests = append(requests, e.Request.URL)
		}
	}))
	defer bcancel()
	fileURL := (&url.URL{Scheme: "file", Path: path}).String()
	if _, err := chromedp.Call(bctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(fileURL), chromedp.WaitVisible(chromedp.CSS("svg.timeline"))); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	num := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("chromium: %s: %v", js, err)
		}
		return n
	}
	lanes := num(`document.querySelectorAll('svg.timeline g.lane').length`)
	nodeLanes := num(`document.querySelectorAll('svg.timeline g.lane.node').length`)
	failedMarks := num(`document.querySelectorAll('svg.timeline .mark-line.fail').length`)
	svgWidth := num(`Math.round(document.querySelector('svg.timeline').getBoundingClientRect().width)`)
	outcome, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById('outcome').dataset.outcome`))
	if err != nil {
		t.Fatal(err)
	}
	outcomeText, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("outcome")))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"report-demo.png": png, "report-demo.pdf": pdf} {
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshot %s, PDF %s", filepath.Join(out, "report-demo.png"), filepath.Join(out, "report-demo.pdf"))

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page logged problems: %v", problems)
	}
	if len(requests) != 1 || requests[0] != fileURL {
		t.Errorf("the page loaded more than itself (no external resource allowed): %v", requests)
	}
	if nodeLanes != 3 || lanes != 4 {
		t.Errorf("timeline: %d node lanes of %d, want 3 of 4 (one per node, one for the product)", nodeLanes, lanes)
	}
	if failedMarks != 0 {
		t.Errorf("%d failed steps marked in a run that verified", failedMarks)
	}
	if outcome != "verified" || !strings.HasPrefix(strings.ToLower(outcomeText), "verified") {
		t.Errorf("outcome line %q (%q), want verified as the demo's run", outcome, outcomeText)
	}
	if svgWidth < 500 {
		t.Errorf("the timeline is not drawn at a readable size (width %d px)", svgWidth)
	}
	if len(png) < 10_000 || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Errorf("screenshot %d bytes, PDF starts %q", len(png), pdf[:min(len(pdf), 8)])
	}
}
