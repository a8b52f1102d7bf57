package record

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/fixtures/legacyshop"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

type expected struct {
	Components []struct {
		Name   string `json:"name"`
		Exe    string `json:"exe"`
		Script string `json:"script"`
	} `json:"components"`
	Couplings []struct {
		Kind       string   `json:"kind"`
		Resource   string   `json:"resource"`
		From       string   `json:"from"`
		Components []string `json:"components"`
	} `json:"couplings"`
}

// TestLegacyshop starts the fixture app, starts recording after it is up
// (so its sockets, FIFO, logs and shared memory come from the snapshot),
// drives orders through it, and checks that every coupling of the fixture's
// ground truth is in the trace with the right processes on both ends.
func TestLegacyshop(t *testing.T) {
	needRecorder(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := t.TempDir()
	if err := legacyshop.Build(ctx, bin); err != nil {
		t.Fatal(err)
	}
	inst, err := legacyshop.NewInstall(filepath.Join(t.TempDir(), "root"), bin)
	if err != nil {
		t.Fatal(err)
	}
	app, err := inst.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Stop()

	out := filepath.Join(t.TempDir(), "legacyshop.trace")
	recCtx, stopRec := context.WithCancel(ctx)
	done := make(chan error, 1)
	started := make(chan struct{})
	var sum Summary
	opts := Options{PID: app.StartPID(), Output: out, OnStart: func() { close(started) }}
	objs := watchObjects(t, &opts)
	go func() {
		var err error
		sum, err = Run(recCtx, opts)
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("recording ended before it started: %v", err)
	}
	if err := app.Drive(ctx, 30); err != nil {
		t.Error(err)
	}
	time.Sleep(2500 * time.Millisecond) // let the cron job rotate logs at least once
	stopRec()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("summary: %+v", sum)
	if err := app.Stop(); err != nil {
		t.Errorf("stop app: %v", err)
	}
	tr, err := trace.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	checkClean(t, objs)
	if testing.Verbose() {
		for _, a := range tr.Accesses {
			for _, r := range tr.Resources {
				if r.ID == a.Resource {
					t.Logf("%-40.40s %-60.60s %+v", exeOf(tr, a.Process), r.Name(), a)
				}
			}
		}
	}

	var exp expected
	if err := json.Unmarshal(legacyshop.ExpectedJSON(), &exp); err != nil {
		t.Fatal(err)
	}
	members := map[string]map[trace.ProcessID]bool{}
	for _, c := range exp.Components {
		members[c.Name] = map[trace.ProcessID]bool{}
		for _, p := range tr.Processes {
			if c.Script != "" && slices.ContainsFunc(p.Argv, func(a string) bool { return filepath.Base(a) == c.Script }) ||
				c.Script == "" && filepath.Base(p.Exe) == c.Exe {
				members[c.Name][p.ID] = true
			}
		}
		if len(members[c.Name]) == 0 {
			t.Errorf("component %s: no process in the trace", c.Name)
		}
	}
	// Short-lived children (cat, mv run by rotate-logs.sh) belong to the
	// component of their parent.
	for changed := true; changed; {
		changed = false
		for _, p := range tr.Processes {
			for _, m := range members {
				if m[p.ParentID] && !m[p.ID] && !isComponent(exp, p) {
					m[p.ID], changed = true, true
				}
			}
		}
	}
	checkShmCoupling(t, tr, inst.ShmPath)
	for _, c := range exp.Couplings {
		res := inst.Expand(c.Resource)
		name := c.Kind + " " + res
		t.Run(strings.ReplaceAll(c.Kind+"_"+filepath.Base(res), "/", "_"), func(t *testing.T) {
			if c.Kind == "signal" {
				checkSignal(t, tr, members, c.Components)
				return
			}
			rs := matchResources(tr, c.Kind, res)
			if len(rs) == 0 {
				t.Fatalf("%s: no resource", name)
			}
			for _, comp := range c.Components {
				if why, ok := unobservable[c.Kind+" "+filepath.Base(c.Resource)+" "+comp]; ok {
					t.Logf("known gap, not asserted: %s by %s: %s", name, comp, why)
					continue
				}
				var bytes, maps int64
				seen, wrote := false, false
				for _, r := range rs {
					for id, a := range accessesOf(tr, r.ID) {
						if members[comp][id] {
							seen = true
							bytes += a.ReadBytes + a.WriteBytes
							maps += a.SharedMaps
							wrote = wrote || a.Wrote()
						}
					}
				}
				if !seen {
					t.Errorf("%s: no access by %s", name, comp)
				}
				// the analysis keeps shared memory in one container only
				// when both sides map it and one of them can write it
				if c.Kind == "shm" && maps == 0 {
					t.Errorf("%s: %s does not map it shared", name, comp)
				}
				if c.Kind == "shm" && comp == c.From && !wrote {
					t.Errorf("%s: the writer %s has no write access", name, comp)
				}
				switch c.Kind {
				case "fifo", "pipe", "tcp", "udp", "unix":
					if bytes == 0 {
						t.Errorf("%s: no bytes moved by %s", name, comp)
					}
				}
			}
		})
	}
}

// matchResources finds the resources a coupling of expected.json names.
func matchResources(tr *trace.Trace, kind, res string) []trace.Resource {
	switch kind {
	case "config", "file", "shm":
		return resources(tr, trace.KindFile, func(r trace.Resource) bool { return r.Path == res })
	case "dir":
		return resources(tr, trace.KindDir, func(r trace.Resource) bool { return r.Path == res })
	case "fifo":
		return resources(tr, trace.KindFIFO, func(r trace.Resource) bool { return r.Path == res })
	case "pipe":
		return resources(tr, trace.KindPipe, nil)
	case "unix":
		return resources(tr, trace.KindUnix, func(r trace.Resource) bool { return r.Path == res })
	case "tcp":
		return resources(tr, trace.KindTCP, func(r trace.Resource) bool { return r.Dst == res && !r.Listen })
	case "udp":
		return resources(tr, trace.KindUDP, func(r trace.Resource) bool { return r.Dst == res })
	}
	return nil
}

func checkSignal(t *testing.T, tr *trace.Trace, members map[string]map[trace.ProcessID]bool, comps []string) {
	for _, s := range tr.Signals {
		if members[comps[0]][s.Sender] && members[comps[1]][s.Target] && s.Signo == 1 {
			return
		}
	}
	t.Errorf("no SIGHUP from %s to %s: %+v", comps[0], comps[1], tr.Signals)
}

// unobservable lists evidence that happens only before recording starts,
// which a recording started after the app cannot see. (Memory mapped at
// start-up is not in this list: the snapshot reads every shared mapping.)
var unobservable = map[string]string{
	"file cache.pid shop-cache": "shop-cache writes and closes its pid file at start-up, before the recording",
}

func isComponent(exp expected, p trace.Process) bool {
	for _, c := range exp.Components {
		if c.Script == "" && filepath.Base(p.Exe) == c.Exe {
			return true
		}
		if c.Script != "" && slices.ContainsFunc(p.Argv, func(a string) bool { return filepath.Base(a) == c.Script }) {
			return true
		}
	}
	return false
}

// checkShmCoupling runs the analysis on the recording: the segment that
// shop-metrics mapped before the recording started must come out as a
// shared-memory coupling written by shop-metrics and mapped by shop-web.
func checkShmCoupling(t *testing.T, tr *trace.Trace, shm string) {
	t.Helper()
	plan, err := graph.Analyze([]*trace.Trace{tr}, graph.Options{})
	if err != nil {
		t.Fatalf("analyze: %v", err)
	}
	for _, c := range plan.Couplings {
		if c.Kind == graph.KindShm && c.Resource == shm {
			if !slices.Contains(c.Components, "shop-web") || !slices.Equal(c.From, []string{"shop-metrics"}) {
				t.Errorf("shm coupling %s: components %v from %v, want shop-web and shop-metrics from shop-metrics", shm, c.Components, c.From)
			}
			return
		}
	}
	t.Errorf("analysis finds no shm coupling on %s", shm)
}
