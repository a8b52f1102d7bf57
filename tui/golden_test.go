package tui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/decompose-dev/decompose/graph"
)

// step sends keys, then waits until the screen shows wait: keys whose
// effect comes back as a command (enter, m) must be waited for before the
// next keys, as a person waits for the screen.
type step struct {
	keys []string
	wait string
}

func steps(s ...step) []step { return s }

func down(n int) []string { return strings.Split(strings.Repeat("j", n), "") }

func with(keys []string, more ...string) []string {
	return append(append([]string(nil), keys...), more...)
}

// moveAudit moves shop-audit (the 8th row) from shop-web to shop-db.
var moveAudit = []step{
	{with(down(7), "m"), "Move shop-audit to which pod?"},
	{[]string{"j", "j", "enter"}, "move shop-audit from shop-web to shop-db"},
}

// goldenScreens are the main screens, each reached with real key presses.
var goldenScreens = []struct {
	name  string
	plan  func(*graph.Plan) *graph.Plan
	steps []step
}{
	{"overview", nil, nil},
	{"pod", nil, steps(step{with(down(3), "enter"), "WHY THESE"})},
	{"component", nil, steps(step{with(down(6), "enter"), "SHARES"})},
	{"coupling", nil, steps(step{[]string{"2"}, "RESOURCE"}, step{with(down(9), "enter"), "CROSSES PODS"})},
	{"couplings", nil, steps(step{[]string{"2"}, "RESOURCE"})},
	{"warnings", nil, steps(step{[]string{"3"}, "INFO: handled"})},
	{"blindspots", withBlindSpots, steps(step{[]string{"4"}, "ring buffer full"})},
	{"filter", nil, steps(step{[]string{"/", "a", "u", "d", "i", "t"}, "/ audit"})},
	{"help", nil, steps(step{[]string{"?"}, "top/bottom"})},
	{"picker", nil, moveAudit[:1]},
	{"moved", nil, moveAudit},
	{"refused", nil, steps(step{with(down(11), "m"), "Move shop-worker"}, step{[]string{"j", "enter"}, "refused"})},
	{"diff", nil, append(moveAudit[:2:2], step{[]string{"5"}, "1. move shop-audit"})},
	{"quit-question", nil, append(moveAudit[:2:2], step{[]string{"q"}, "y quits without saving"})},
}

// TestGolden drives the program through bubbletea (teatest) to each main
// screen at 80x24 and 120x40 and compares the final frame with
// testdata/TestGolden/<screen>_<size>.golden (regenerate: go test -update).
func TestGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for _, sc := range goldenScreens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				p := legacyshop(t)
				if sc.plan != nil {
					p = sc.plan(p)
				}
				o := opts(t, p)
				o.SavePath = "plan.json"
				tm := teatest.NewTestModel(t, New(o), teatest.WithInitialTermSize(size[0], size[1]))
				waitFor(t, tm, "QUALITY")
				for _, s := range sc.steps {
					for _, k := range s.keys {
						tm.Send(keyMsg(k))
					}
					waitFor(t, tm, s.wait)
				}
				if err := tm.Quit(); err != nil {
					t.Fatal(err)
				}
				final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
				golden.RequireEqual(t, []byte(final.View()))
			})
		}
	}
}

func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
		teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}
