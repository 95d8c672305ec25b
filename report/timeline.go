package report

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Timeline is the SVG timeline's geometry, computed here so that the template only draws: one
// lane per product (lock, purge, API calls, verify) and one per node (drain → restart issued →
// down → starting → RUNNING, stable), on a real time axis.
type Timeline struct {
	Width, Height int
	PlotX, PlotW  float64
	AxisY         float64
	Start, End    time.Time
	Lanes         []Lane
	Ticks         []Tick
	Rows          []Row // every event in time order (the Markdown timeline)
}

// Lane is one row of the timeline.
type Lane struct {
	Y       float64 // top of the lane
	Kind    string  // "product" or "node"
	Product string
	Node    string
	Label   string
	Sub     string // second line under the label (method, downtime)
	Bars    []Bar
	Marks   []Mark
	Note    string // text in the plot when nothing happened on the lane
	Failed  bool
	Down    *Bar // the downtime bracket under the bars
}

// Bar is a phase drawn from its start to its end.
type Bar struct {
	X, W   float64
	Class  string
	Label  string // drawn inside the bar when it fits
	Title  string // tooltip
	Failed bool
}

// Mark is an instant: the lock, a failure.
type Mark struct {
	X      float64
	TextX  float64 // where its label starts, or ends (Anchor "end") near the right edge
	Anchor string
	Class  string
	Label  string
	Title  string
}

func (t *Timeline) mark(at time.Time, class, label, title string) Mark {
	m := Mark{X: t.x(at), Class: class, Label: label, Title: title, Anchor: "start"}
	m.TextX = m.X + 3
	if m.X+60 > float64(t.Width) {
		m.TextX, m.Anchor = m.X-3, "end"
	}
	return m
}

// Tick is a label on the time axis.
type Tick struct {
	X     float64
	Label string
}

// Row is one line of the Markdown timeline.
type Row struct {
	At     time.Time
	Rel    string
	Lane   string
	Event  string
	Failed bool
}

const (
	tlWidth   = 1000
	tlLabelW  = 210
	tlRightW  = 20
	tlTop     = 30
	tlLaneH   = 36
	tlBarY    = 8
	tlBarH    = 18
	tlMinBarW = 2
)

var phaseBar = map[string]struct{ class, label string }{
	"drain":      {"drain", "drain"},
	"restarting": {"issued", "restart issued"},
	"down":       {"down", "down"},
	"starting":   {"starting", "starting"},
	"stable":     {"stable", "RUNNING, stable window"},
	"undrain":    {"drain", "undrain"},
}

func buildTimeline(r *Report) Timeline {
	t := Timeline{Width: tlWidth, PlotX: tlLabelW, PlotW: tlWidth - tlLabelW - tlRightW, AxisY: tlTop - 8,
		Start: r.Started, End: r.Ended}
	if !t.End.After(t.Start) {
		t.End = t.Start.Add(time.Second)
	}
	y := float64(tlTop)
	for _, p := range r.Products {
		t.Lanes = append(t.Lanes, t.productLane(p, y))
		y += tlLaneH
		for _, n := range p.Nodes {
			t.Lanes = append(t.Lanes, t.nodeLane(p, n, y))
			y += tlLaneH
		}
	}
	t.Height = int(y) + 8
	t.ticks()
	t.rows(r)
	return t
}

func (t *Timeline) x(at time.Time) float64 {
	f := float64(at.Sub(t.Start)) / float64(t.End.Sub(t.Start))
	return round1(t.PlotX + math.Max(0, math.Min(1, f))*t.PlotW)
}

func (t *Timeline) bar(from, to time.Time, class, label, title string) Bar {
	x0, x1 := t.x(from), t.x(to)
	w := math.Max(tlMinBarW, x1-x0)
	b := Bar{X: x0, W: round1(w), Class: class, Title: title}
	if float64(len(label))*6.2+8 < w {
		b.Label = label
	}
	return b
}

func (t *Timeline) productLane(p *Product, y float64) Lane {
	l := Lane{Y: y, Kind: "product", Product: p.ID, Label: p.Name, Sub: "database · " + p.Mode}
	if !p.Lock.IsZero() {
		l.Marks = append(l.Marks, t.mark(p.Lock, "lock", "lock", "lock held "+clock(p.Lock)))
	}
	if !p.Purge.Start.IsZero() {
		end := p.Purge.End
		if end.IsZero() {
			end = t.End
		}
		b := t.bar(p.Purge.Start, end, "purge", "purge", fmt.Sprintf("purge %s → %s: %d token(s) deleted", clock(p.Purge.Start), clock(end), p.Deleted))
		b.Failed = p.Purge.Failed
		l.Bars = append(l.Bars, b)
	}
	if a := p.API; a != nil && !a.Start.IsZero() {
		end := a.End
		if end.IsZero() {
			end = t.End
		}
		b := t.bar(a.Start, end, "api", "API calls", fmt.Sprintf("API calls %s → %s: %d of %d user(s) ended, %d request(s)", clock(a.Start), clock(end), a.Ended, a.Users, a.Requests))
		b.Failed = a.Failed
		l.Bars = append(l.Bars, b)
	}
	if v := p.Verify; v != nil && !v.Start.IsZero() {
		end := v.End
		if end.IsZero() {
			end = t.End
		}
		b := t.bar(v.Start, end, "verify", "verify", "verify "+clock(v.Start)+" → "+clock(end))
		b.Failed = v.Failed
		l.Bars = append(l.Bars, b)
	}
	for i, w := range p.Waves {
		l.Marks = append(l.Marks, t.mark(w.Time, "wave", fmt.Sprintf("wave %d", i+1), w.Label+" ("+clock(w.Time)+")"))
	}
	if p.Fail != nil {
		l.Failed = true
		l.Marks = append(l.Marks, t.mark(p.Fail.Time, "fail", "failed", "failed "+clock(p.Fail.Time)+": "+p.Fail.Error))
	}
	if len(l.Bars) == 0 && len(l.Marks) == 0 {
		l.Note = p.Status
	}
	return l
}

func (t *Timeline) nodeLane(p *Product, n *Node, y float64) Lane {
	l := Lane{Y: y, Kind: "node", Product: p.ID, Node: n.Name, Label: n.Name, Sub: n.Method}
	if n.Wave > 0 && len(p.Waves) > 0 {
		l.Sub += fmt.Sprintf(" · wave %d", n.Wave)
	}
	var open *Bar
	var openFrom time.Time
	var openName, openPhase string
	closeAt := func(at time.Time) {
		if open != nil {
			b := t.bar(openFrom, at, open.Class, open.Label, openPhase+" "+clock(openFrom)+" → "+clock(at)+" ("+dur(at.Sub(openFrom))+")")
			l.Bars = append(l.Bars, b)
			open = nil
		}
	}
	for _, ph := range n.Phases {
		if pb, ok := phaseBar[ph.Name]; ok {
			if open != nil && ph.Name == "starting" && openName == "starting" {
				continue // a new state while starting (HTTP 503 → STARTING): one bar
			}
			closeAt(ph.Time)
			open, openFrom, openName, openPhase = &Bar{Class: pb.class, Label: pb.label}, ph.Time, ph.Name, ph.Name
			if ph.State != "" {
				openPhase += " (" + ph.State + ")"
			}
			continue
		}
		wasOpen := open != nil
		closeAt(ph.Time)
		if ph.Name == "failed" {
			if wasOpen {
				l.Bars[len(l.Bars)-1].Failed = true // the phase the node failed in
			}
			l.Failed = true
			l.Marks = append(l.Marks, t.mark(ph.Time, "fail", "failed", "failed "+clock(ph.Time)+": "+ph.Message))
		}
	}
	closeAt(t.End)
	if !n.Down.IsZero() {
		end := n.Running
		if end.IsZero() {
			end = n.Down.Add(n.Downtime)
		}
		d := t.bar(n.Down, end, "downtime", "", "not serving "+dur(n.Downtime))
		l.Down = &d
		if n.Running.IsZero() {
			l.Sub += " · down ≥ " + dur(n.Downtime) + ", did not come back"
		} else {
			l.Sub += " · down " + dur(n.Downtime)
		}
	}
	if len(l.Bars) == 0 && len(l.Marks) == 0 {
		switch {
		case p.Mode == "api":
			l.Note = "not restarted: sessions ended through the API"
		case n.Status == "skipped (already restarted)":
			l.Note = "restarted in an earlier run"
		default:
			l.Note = "not touched"
		}
	}
	return l
}

// ticks puts 4 to 10 labels on the axis at a round step.
func (t *Timeline) ticks() {
	total := t.End.Sub(t.Start)
	steps := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, time.Second,
		2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute,
		2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if total/s <= 10 {
			step = s
			break
		}
	}
	for d := time.Duration(0); d <= total; d += step {
		t.Ticks = append(t.Ticks, Tick{X: t.x(t.Start.Add(d)), Label: rel(d, total)})
	}
}

// rows lists every event in time order, for the Markdown table.
func (t *Timeline) rows(r *Report) {
	add := func(at time.Time, lane, event string, failed bool) {
		if !at.IsZero() {
			t.Rows = append(t.Rows, Row{At: at, Lane: lane, Event: event, Failed: failed})
		}
	}
	add(r.Started, "run", "started by "+r.Operator+" on "+r.Host, false)
	for _, p := range r.Products {
		add(p.Lock, p.ID, "lock held", false)
		add(p.Purge.Start, p.ID, "purge started", false)
		if !p.Purge.End.IsZero() {
			add(p.Purge.End, p.ID, fmt.Sprintf("purge %s: %d token(s) deleted", okFailed(p.Purge.Failed), p.Deleted), p.Purge.Failed)
		}
		if a := p.API; a != nil {
			add(a.Start, p.ID, "API calls started", false)
			add(a.End, p.ID, fmt.Sprintf("API calls %s: %d of %d user(s) ended", okFailed(a.Failed), a.Ended, a.Users), a.Failed)
		}
		for _, n := range p.Nodes {
			for _, ph := range n.Phases {
				ev := ph.Name
				if ph.State != "" {
					ev += " (" + ph.State + ")"
				}
				if ph.Message != "" {
					ev += ": " + ph.Message
				}
				add(ph.Time, p.ID+" "+n.Name, ev, ph.Name == "failed")
			}
		}
		for _, w := range p.Waves {
			add(w.Time, p.ID, w.Label, false)
		}
		if v := p.Verify; v != nil {
			add(v.Start, p.ID, "verify started", false)
			add(v.End, p.ID, "verify "+okFailed(v.Failed), v.Failed)
		}
		if p.Fail != nil {
			add(p.Fail.Time, p.ID, "failed: "+p.Fail.Error, true)
		}
	}
	if r.Finished {
		add(r.Ended, "run", fmt.Sprintf("ended, exit %d", r.ExitCode), r.ExitCode != 0)
	}
	sort.SliceStable(t.Rows, func(i, j int) bool { return t.Rows[i].At.Before(t.Rows[j].At) })
	total := t.End.Sub(t.Start)
	for i := range t.Rows {
		t.Rows[i].Rel = rel(t.Rows[i].At.Sub(t.Start), total)
	}
}

func okFailed(failed bool) string {
	if failed {
		return "FAILED"
	}
	return "done"
}

// rel is a time since the start: +1.25 s for short runs, +12m05s for long ones.
func rel(d, total time.Duration) string {
	if total < 2*time.Minute {
		return fmt.Sprintf("+%.2f s", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("+%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

func dur(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }

func round1(f float64) float64 { return math.Round(f*10) / 10 }
