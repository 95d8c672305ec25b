package apimode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reauth/reauth"
	"github.com/reauth/reauth/atlassian"
)

// Options configure Invalidate. Zero values mean the defaults below.
type Options struct {
	Product atlassian.Product
	// BaseURL is a node (or the load balancer). BaseURLs, when given, spreads the calls over
	// several nodes: each one ends the user's sessions cluster-wide.
	BaseURL  string
	BaseURLs []string
	Auth     Auth
	Users    []string
	Client   *http.Client // default: a client with a 30 s timeout per request

	// Stop (the first Ctrl-C) lets the requests in flight finish and starts no new user; cancelling
	// the context (the second) abandons them too. Users not reached are reported not done.
	Stop reauth.Stop

	Concurrency int     // requests in flight at once; default 8
	RatePerSec  float64 // at most this many requests per second; 0 = no limit
	// Retries is how often one user's call is retried on 429, 5xx or a network error; default
	// 4, negative for none. Backoff is the first wait, doubled each time (with jitter) up to
	// MaxBackoff; a Retry-After from the product wins, up to MaxRetryAfter.
	Retries       int
	Backoff       time.Duration // default 200 ms
	MaxBackoff    time.Duration // default 10 s
	MaxRetryAfter time.Duration // default 60 s

	Breaker BreakerOptions
	// Progress is called as users complete (at most every ProgressEvery, and once at the end).
	Progress      func(done, total int, rate float64, eta time.Duration)
	ProgressEvery time.Duration // default 200 ms
}

// UserFailure is one user whose sessions could not be ended.
type UserFailure struct {
	User   string `json:"user"`
	Status int    `json:"status,omitempty"` // the last HTTP status, 0 for a network error
	Error  string `json:"error"`
}

// Result is what Invalidate did. It is filled in as far as the run got, also on error.
type Result struct {
	Users     int           `json:"users"`
	Ended     int           `json:"ended"`     // 204: the product ended the user's sessions
	NotFound  []string      `json:"not_found"` // 404: no such user, nothing to end
	Failed    []UserFailure `json:"failed"`    // gave up on these after retries
	NotDone   []string      `json:"not_done"`  // never finished because the run stopped
	Requests  int           `json:"requests"`  // HTTP calls made, retries included
	Retried   int           `json:"retried"`
	Throttled int           `json:"throttled"` // 429 answers (overload)
	Stopped   string        `json:"stopped,omitempty"`
	P50       time.Duration `json:"-"`
	P99       time.Duration `json:"-"`
	Elapsed   time.Duration `json:"-"`
	P50MS     float64       `json:"p50_ms"`
	P99MS     float64       `json:"p99_ms"`
	ElapsedMS float64       `json:"elapsed_ms"`
	PerSecond float64       `json:"requests_per_second"`
}

func (o *Options) defaults() error {
	if o.Product.SessionAPI == "" {
		return reauth.Refused("use a rolling restart for "+o.Product.Name, "%s has no REST endpoint that ends a user's sessions", o.Product.Name)
	}
	if len(o.BaseURLs) == 0 && o.BaseURL != "" {
		o.BaseURLs = []string{o.BaseURL}
	}
	if len(o.BaseURLs) == 0 {
		return reauth.Usage("give the node url", "no %s url to call", o.Product.Name)
	}
	if o.Auth.IsZero() {
		return reauth.Usage("add an admin block with a token or password reference to the inventory", "no admin credentials for %s", o.Product.Name)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	o.Client = withoutRedirects(o.Client)
	if o.Client.Transport == nil {
		o.Client.Transport = pooledTransport(o.Concurrency)
	}
	if o.Retries == 0 {
		o.Retries = 4
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 60 * time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 200 * time.Millisecond
	}
	o.Breaker.defaults()
	return nil
}

// pooledTransport is the standard transport keeping a connection per worker alive between
// calls. The standard one keeps 2 idle connections per host: with 3 or more workers on a node,
// calls beyond the second closed their connection and the next ones opened new ones (a TCP,
// and on a real product a TLS, handshake per call, and a socket left in TIME_WAIT). The
// connections per host are capped at the workers too: a worker whose previous connection is
// not back in the pool yet waits for it instead of dialling another one.
func pooledTransport(workers int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(workers, t.MaxIdleConnsPerHost)
	t.MaxIdleConns = max(workers, t.MaxIdleConns)
	t.MaxConnsPerHost = workers
	return t
}

// outcome of one user.
type outcome int

const (
	pending outcome = iota
	ended
	notFound
	failed
)

// run is the shared state of one Invalidate call.
type run struct {
	o      *Options
	pace   *pacer
	brk    *breaker
	cancel context.CancelCauseFunc
	calls  context.Context // the caller's context, for calls in flight (not cancelled by a stop)

	mu        sync.Mutex
	outcomes  []outcome
	failures  map[int]UserFailure
	latencies []time.Duration
	requests  int
	retried   int
	throttled int
	done      int
	ended     int
	start     time.Time
	lastProg  time.Time
	holdUntil time.Time // a 429's Retry-After holds every worker
}

// errStop is the cause of a run stopped on purpose (breaker, credentials).
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }
func (e errStop) Unwrap() error { return e.err }

// Invalidate ends the sessions of every user in o.Users through the product's session endpoint.
// Only 204 counts as ended; 404 (no such user) is counted apart, not a failure. 401/403 and a
// redirect (to a login page: not authenticated as an admin) stop the run at once. 429 and 5xx
// are retried with backoff; the breaker stops the run when the product keeps failing. The error
// says how far it got: exit 4 when nothing was ended, 3 (partial) when some users were.
func Invalidate(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	r := &run{o: &o, pace: newPacer(o.RatePerSec), brk: newBreaker(o.Breaker),
		outcomes: make([]outcome, len(o.Users)), failures: map[int]UserFailure{}, start: time.Now()}
	// A stop (breaker, credentials) cancels ctx: no new call starts. Calls already sent run on
	// the caller's context and finish, so a session the node ended is counted as ended.
	r.calls = ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(o.Concurrency, max(1, len(o.Users))); w++ {
		wg.Add(1)
		go func(base string) {
			defer wg.Done()
			for i := range jobs {
				if o.Stop.Stopping() {
					continue // not started: the user stays pending (not done)
				}
				r.user(ctx, base, i)
			}
		}(o.BaseURLs[w%len(o.BaseURLs)])
	}
feed:
	for i := range o.Users {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		case <-o.Stop.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	o.Client.CloseIdleConnections()
	res := r.result()
	r.progress(true)
	return res, r.err(ctx, res)
}

// user ends one user's sessions, with retries. A user whose calls failed and who is then given
// up (the breaker opened, the run was stopped) counts as failed, with its last failure, not as
// "not done": the breaker counts those very calls, and the totals must agree with it.
func (r *run) user(ctx context.Context, base string, i int) {
	name := r.o.Users[i]
	var last UserFailure
	giveUp := func() {
		if last.User != "" {
			r.finish(i, failed, last)
		} // else: never answered badly; the user stays pending (not done)
	}
	for attempt := 0; attempt <= r.o.Retries; attempt++ {
		if attempt > 0 && r.o.Stop.Stopping() {
			giveUp() // stopped: no retry
			return
		}
		if attempt > 0 {
			r.mu.Lock()
			r.retried++
			r.mu.Unlock()
		}
		if err := r.waitTurn(ctx); err != nil {
			giveUp()
			return
		}
		code, retryAfter, location, err := r.call(r.calls, base, name)
		if errors.As(err, new(errNoPath)) { // nothing was sent; a retry would not change the name
			r.finish(i, failed, UserFailure{User: name, Error: err.Error()})
			return
		}
		switch {
		case err == nil && code == sessionEnded: // also after a stop: the node did end the sessions
			r.brk.record(false)
			r.finish(i, ended, UserFailure{})
			return
		case err == nil && code == http.StatusNotFound:
			r.brk.record(false)
			r.finish(i, notFound, UserFailure{})
			return
		case ctx.Err() != nil:
			// Answered badly after the stop: that is its last word, unless the answer is the
			// stop's own cause (credentials, a redirect) or the caller abandoned the call.
			stopCause := err == nil && (code == http.StatusUnauthorized || code == http.StatusForbidden || code/100 == 3)
			if !stopCause && (err == nil || r.calls.Err() == nil) {
				last = failureOf(name, code, err)
			}
			giveUp()
			return
		case err == nil && (code == http.StatusUnauthorized || code == http.StatusForbidden):
			r.cancel(errStop{authError(r.o.Product, code, r.o.Auth)})
			return
		case err == nil && code/100 == 3:
			r.cancel(errStop{redirectError(r.o.Product, &http.Response{StatusCode: code, Header: http.Header{"Location": {location}}},
				"DELETE "+r.o.Product.SessionAPI)})
			return
		case err == nil && code == http.StatusTooManyRequests:
			// Overload, not failure: everyone holds off, then this user is tried again.
			r.mu.Lock()
			r.throttled++
			r.mu.Unlock()
			r.hold(r.wait(attempt, retryAfter))
			last = UserFailure{User: name, Status: code, Error: "HTTP 429 Too Many Requests"}
			continue
		}
		last = failureOf(name, code, err)
		if tripped, why := r.brk.record(true); tripped {
			r.cancel(errStop{fmt.Errorf("%s is failing: %s (last: %s for %s)", r.o.Product.Name, why, last.Error, name)})
			giveUp()
			return
		}
		if code != 0 && (code/100 == 4 || code/100 == 2) {
			break // a client error, or an undocumented success, will not change on retry
		}
		if attempt < r.o.Retries && reauth.Sleep(ctx, r.wait(attempt, retryAfter)) != nil {
			giveUp()
			return
		}
	}
	r.finish(i, failed, last)
}

// failureOf describes a call that did not end the user's sessions.
func failureOf(name string, code int, err error) UserFailure {
	switch {
	case err != nil:
		return UserFailure{User: name, Error: err.Error()}
	case code/100 == 2:
		return UserFailure{User: name, Status: code, Error: "HTTP " + strconv.Itoa(code) + " " + http.StatusText(code) +
			", not the documented " + strconv.Itoa(sessionEnded) + ": not counted as ended"}
	}
	return UserFailure{User: name, Status: code, Error: "HTTP " + strconv.Itoa(code) + " " + http.StatusText(code)}
}

// call makes one DELETE and returns the status, any Retry-After, and any redirect's Location.
func (r *run) call(ctx context.Context, base, user string) (int, time.Duration, string, error) {
	path, err := sessionPath(r.o.Product, user)
	if err != nil {
		return 0, 0, "", errNoPath{err}
	}
	u := r.o.Product.URL(base, path)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return 0, 0, "", err
	}
	req.Header.Set("Accept", "application/json")
	r.o.Auth.apply(req)
	t0 := time.Now()
	resp, err := r.o.Client.Do(req)
	d := time.Since(t0)
	r.mu.Lock()
	r.requests++
	r.latencies = append(r.latencies, d)
	r.mu.Unlock()
	if err != nil {
		return 0, 0, "", fmt.Errorf("DELETE %s: %w", r.o.Product.SessionAPI, unwrapURLError(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), resp.Header.Get("Location"), nil
}

// errNoPath is a user name that cannot be put in the endpoint's path.
type errNoPath struct{ error }

func (e errNoPath) Unwrap() error { return e.error }

// unwrapURLError drops the URL from a client error: it is already named, and short is better.
func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil && strings.HasPrefix(err.Error(), "Delete ") {
		return ue.Unwrap()
	}
	return err
}

// wait is the backoff before retry number attempt+1: the product's Retry-After when it gave one
// (capped), else exponential with full jitter so that workers do not retry in lockstep.
func (r *run) wait(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, r.o.MaxRetryAfter)
	}
	d := r.o.Backoff << min(attempt, 20)
	if d <= 0 || d > r.o.MaxBackoff {
		d = r.o.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func (r *run) hold(d time.Duration) {
	r.mu.Lock()
	if t := time.Now().Add(d); t.After(r.holdUntil) {
		r.holdUntil = t
	}
	r.mu.Unlock()
}

// waitTurn waits for a 429 hold to pass and for the rate limiter.
func (r *run) waitTurn(ctx context.Context) error {
	r.mu.Lock()
	hold := time.Until(r.holdUntil)
	r.mu.Unlock()
	if err := reauth.Sleep(ctx, hold); err != nil {
		return err
	}
	return r.pace.wait(ctx)
}

func (r *run) finish(i int, out outcome, f UserFailure) {
	r.mu.Lock()
	r.outcomes[i] = out
	if out == failed {
		r.failures[i] = f
	}
	if out == ended {
		r.ended++
	}
	r.done++
	r.mu.Unlock()
	r.progress(false)
}

func (r *run) progress(final bool) {
	if r.o.Progress == nil {
		return
	}
	r.mu.Lock()
	now := time.Now()
	if !final && now.Sub(r.lastProg) < r.o.ProgressEvery {
		r.mu.Unlock()
		return
	}
	r.lastProg = now
	done, total := r.done, len(r.o.Users)
	el := now.Sub(r.start).Seconds()
	r.mu.Unlock()
	rate, eta := 0.0, time.Duration(0)
	if el > 0 {
		rate = float64(done) / el
	}
	if rate > 0 {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second))
	}
	r.o.Progress(done, total, rate, eta)
}

func (r *run) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Users: len(r.o.Users), Ended: r.ended, Requests: r.requests, Retried: r.retried, Throttled: r.throttled,
		NotFound: []string{}, Failed: []UserFailure{}, NotDone: []string{}, Elapsed: time.Since(r.start)}
	for i, out := range r.outcomes {
		switch out {
		case notFound:
			res.NotFound = append(res.NotFound, r.o.Users[i])
		case failed:
			res.Failed = append(res.Failed, r.failures[i])
		case pending:
			res.NotDone = append(res.NotDone, r.o.Users[i])
		}
	}
	lat := append([]time.Duration(nil), r.latencies...)
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	res.P50, res.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	res.P50MS, res.P99MS = ms(res.P50), ms(res.P99)
	res.ElapsedMS = ms(res.Elapsed)
	if s := res.Elapsed.Seconds(); s > 0 {
		res.PerSecond = float64(res.Requests) / s
	}
	return res
}

// err turns how the run ended into the caller's error and exit code.
func (r *run) err(ctx context.Context, res Result) error {
	cause := context.Cause(ctx)
	var stop errStop
	code := reauth.ExitPartial
	if res.Ended == 0 {
		code = reauth.ExitFailed
	}
	// Every user is in exactly one of these, so they add up to res.Users.
	notDone := fmt.Sprintf("%d of %d user(s) ended, %d unknown to %s (404), %d failed, %d not done",
		res.Ended, res.Users, len(res.NotFound), r.o.Product.Name, len(res.Failed), len(res.NotDone))
	switch {
	case errors.As(cause, &stop):
		if reauth.CodeOf(stop.err) == reauth.ExitRefused && res.Ended == 0 {
			return stop.err // wrong credentials before anything changed
		}
		return &reauth.Error{Code: code, Op: "end sessions through the " + r.o.Product.Name + " API",
			Err: fmt.Errorf("stopped: %w; %s", stop.err, notDone),
			Hint: "fix the cause (the product's logs and /status say more), then run again: ending a session twice is harmless. " +
				"The users not ended are listed in the report; until then a rolling restart ends every session"}
	case ctx.Err() != nil || (r.o.Stop.Stopping() && len(res.NotDone) > 0):
		return &reauth.Error{Code: reauth.ExitInterrupted, Op: "end sessions", Err: fmt.Errorf("interrupted: %s", notDone),
			Hint: "run again to end the rest: ending a session twice is harmless"}
	case len(res.Failed) > 0:
		return &reauth.Error{Code: code, Op: "end sessions through the " + r.o.Product.Name + " API",
			Err:  fmt.Errorf("%s (first: %s: %s)", notDone, res.Failed[0].User, res.Failed[0].Error),
			Hint: "the failed users are listed in the report: run again for them, or restart the nodes"}
	}
	return nil
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date (RFC 9110 10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
