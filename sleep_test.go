package reauth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("plain sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, d := range []time.Duration{0, -time.Second, time.Hour} {
		start := time.Now()
		if err := Sleep(ctx, d); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep(cancelled, %v) = %v, want context.Canceled", d, err)
		}
		if time.Since(start) > time.Minute {
			t.Errorf("Sleep(cancelled, %v) waited", d)
		}
	}
}

func TestExpandHome(t *testing.T) {
	env := func(k string) string { return map[string]string{"HOME": "/home/ops"}[k] }
	for in, want := range map[string]string{"~": "/home/ops", "~/.ssh/id": "/home/ops/.ssh/id", "/etc/x": "/etc/x", "~ops/x": "~ops/x", "": ""} {
		if got := ExpandHome(in, env); got != want {
			t.Errorf("ExpandHome(%q) = %q, want %q", in, got, want)
		}
	}
}
