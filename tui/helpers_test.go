package tui

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

func TestMain(m *testing.M) {
	// Goldens and string assertions see no colour codes, on any terminal.
	lipgloss.SetColorProfile(termenv.Ascii)
	os.Exit(m.Run())
}

var updatePlan = flag.Bool("update-plan", false, "rewrite testdata/legacyshop.plan.json from the bundled trace")

// planFile is the engine's plan for the bundled legacyshop recording,
// saved so that these tests (and the goldens) check the UI, not the
// engine: an engine change does not move them until the file is
// regenerated with -update-plan. The end-to-end test runs the engine.
const planFile = "testdata/legacyshop.plan.json"

var (
	shopOnce sync.Once
	shopPlan *graph.Plan
	shopErr  error
)

// legacyshop returns a fresh copy of the saved legacyshop plan.
func legacyshop(t testing.TB) *graph.Plan {
	t.Helper()
	shopOnce.Do(func() {
		if *updatePlan {
			if shopErr = writeLegacyshopPlan(); shopErr != nil {
				return
			}
		}
		f, err := os.Open(planFile)
		if err != nil {
			shopErr = err
			return
		}
		defer f.Close()
		shopPlan, shopErr = graph.ReadPlan(f, planFile)
	})
	if shopErr != nil {
		t.Fatalf("load %s (regenerate with -update-plan): %v", planFile, shopErr)
	}
	return shopPlan.Clone()
}

// writeLegacyshopPlan analyzes the bundled trace and saves the plan.
func writeLegacyshopPlan() error {
	dir, err := os.MkdirTemp("", "tui-test-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "legacyshop.trace")
	if err := os.WriteFile(p, recordings.LegacyshopSynthetic, 0o644); err != nil {
		return err
	}
	tr, err := trace.Open(p)
	if err != nil {
		return err
	}
	plan, err := graph.Analyze([]*trace.Trace{tr}, graph.Options{})
	if err != nil {
		return err
	}
	return writePlan(planFile, plan)
}

// withBlindSpots adds what a real recording reports when it loses events,
// so that the blind spots screen has something to show.
func withBlindSpots(p *graph.Plan) *graph.Plan {
	p.BlindSpots = append(p.BlindSpots,
		graph.BlindSpot{What: "events dropped (ring buffer full)", Count: 1532, Host: "legacy-vm", Detail: "raise --buffer or record a shorter window"},
		graph.BlindSpot{What: "mmap'd file I/O not counted", Count: 12, Host: "legacy-vm", Detail: "bytes through mapped files are invisible to read/write hooks"},
	)
	p.Recompute()
	return p
}

// opts returns Options that load p and save to a file in a temp dir.
func opts(t testing.TB, p *graph.Plan) Options {
	return Options{
		Load:     func() (*graph.Plan, error) { return p, nil },
		Source:   "legacyshop.trace",
		SavePath: filepath.Join(t.TempDir(), "plan.json"),
	}
}

// tester drives a Model without a program: it runs the commands a message
// returns and feeds their messages back, as bubbletea would.
type tester struct {
	t    testing.TB
	m    *Model
	quit bool
}

// loaded returns a tester for a model sized w x h that has loaded p.
func loaded(t testing.TB, p *graph.Plan, w, h int) *tester {
	t.Helper()
	m := New(opts(t, p))
	tt := &tester{t: t, m: m}
	tt.send(tea.WindowSizeMsg{Width: w, Height: h})
	tt.send(loadedMsg{plan: p})
	if m.state != stateBrowse {
		t.Fatalf("state after loading: %v", m.state)
	}
	return tt
}

func (tt *tester) send(msg tea.Msg) {
	tt.t.Helper()
	_, cmd := tt.m.Update(msg)
	tt.run(cmd)
}

// run executes cmd and delivers what it returns, depth first; tea.Batch and
// tea.Sequence results are unpacked in order.
func (tt *tester) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	switch msg := msg.(type) {
	case nil:
		return
	case tea.QuitMsg:
		tt.quit = true
		return
	case spinner.TickMsg:
		return // a spinner ticks forever: its frames are not under test here
	case tea.BatchMsg:
		for _, c := range msg {
			tt.run(c)
		}
		return
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := 0; i < v.Len(); i++ { // tea.Sequence's unexported message
			tt.run(v.Index(i).Interface().(tea.Cmd))
		}
		return
	}
	tt.send(msg)
}

// keys sends each key: "enter", "esc", "ctrl+r", "space", or runes.
func (tt *tester) keys(keys ...string) *tester {
	tt.t.Helper()
	for _, k := range keys {
		tt.send(keyMsg(k))
	}
	return tt
}

// typeText sends s as one burst of runes, as a terminal delivers typing.
func (tt *tester) typeText(s string) *tester {
	tt.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
	return tt
}

func keyMsg(k string) tea.KeyMsg {
	special := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp,
		"ctrl+c": tea.KeyCtrlC, "ctrl+r": tea.KeyCtrlR, "ctrl+u": tea.KeyCtrlU, "space": tea.KeySpace,
		"backspace": tea.KeyBackspace, "home": tea.KeyHome, "end": tea.KeyEnd,
	}
	if t, ok := special[k]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: t, Runes: []rune{' '}}
		}
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// podOf returns the pod holding comp in the model's current plan.
func (tt *tester) podOf(comp string) string {
	for _, pod := range tt.m.Plan().Pods {
		for _, c := range pod.Components {
			if c == comp {
				return pod.Name
			}
		}
	}
	return ""
}

// selectComponent puts the overview cursor on comp.
func (tt *tester) selectComponent(comp string) *tester {
	tt.t.Helper()
	if !tt.m.overview.Select("component", comp) {
		tt.t.Fatalf("no component %s in the overview", comp)
	}
	return tt
}

// screen returns the whole screen.
func (tt *tester) screen() string { return tt.m.View() }

func (tt *tester) wantScreen(subs ...string) {
	tt.t.Helper()
	s := tt.screen()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			tt.t.Fatalf("screen lacks %q:\n%s", sub, s)
		}
	}
}
