package tui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/component"
	"github.com/decompose-dev/decompose/tui/coupling"
	"github.com/decompose-dev/decompose/tui/couplinglist"
	"github.com/decompose-dev/decompose/tui/intent"
	"github.com/decompose-dev/decompose/tui/overview"
	"github.com/decompose-dev/decompose/tui/pod"
)

func TestLoadingRunsInACommand(t *testing.T) {
	calls := 0
	m := New(Options{Source: "x.trace", Load: func() (*graph.Plan, error) { calls++; return legacyshop(t), nil }})
	tt := &tester{t: t, m: m}
	tt.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	if calls != 0 || m.state != stateLoading || !strings.Contains(m.View(), "loading x.trace") {
		t.Fatalf("before Init's command runs: %d loads, state %v", calls, m.state)
	}
	tt.run(m.Init()) // the spinner's tick is delivered first, then the plan
	if calls != 1 || m.state != stateBrowse || m.Plan() == nil {
		t.Fatalf("after loading: %d loads, state %v", calls, m.state)
	}
}

func TestLoadErrorQuitsWithIt(t *testing.T) {
	want := errors.New("read trace x: truncated")
	m := New(Options{Load: func() (*graph.Plan, error) { return nil, want }})
	tt := &tester{t: t, m: m}
	tt.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	tt.run(m.Init())
	if !tt.quit || !errors.Is(m.Err(), want) || m.state != stateFailed {
		t.Fatalf("quit %v, err %v, state %v", tt.quit, m.Err(), m.state)
	}
	if !strings.Contains(m.View(), "truncated") {
		t.Fatalf("the error is not shown:\n%s", m.View())
	}
}

func TestQuitWhileLoading(t *testing.T) {
	m := New(Options{Load: func() (*graph.Plan, error) { return nil, nil }})
	tt := &tester{t: t, m: m}
	tt.keys("q")
	if !tt.quit {
		t.Fatal("q while loading did not quit")
	}
}

func TestNavigationKeys(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	sel := func() string { k, n := tt.m.overview.Selected(); return k + ":" + n }
	if sel() != "pod:shop-cache" {
		t.Fatalf("first row: %s", sel())
	}
	steps := []struct{ key, want string }{
		{"j", "component:rotate-logs.sh"},
		{"down", "component:shop-cache"},
		{"k", "component:rotate-logs.sh"},
		{"up", "pod:shop-cache"},
		{"G", "component:shop-worker"},
		{"g", "pod:shop-cache"},
		{"pgdown", "component:shop-worker"},
		{"pgup", "pod:shop-cache"},
		{"end", "component:shop-worker"},
		{"home", "pod:shop-cache"},
	}
	for _, s := range steps {
		if tt.keys(s.key); sel() != s.want {
			t.Fatalf("after %s: %s, want %s", s.key, sel(), s.want)
		}
	}
	tt.typeText("jjj") // one burst of runes is three keys
	if sel() != "pod:shop-db" {
		t.Fatalf("after a burst of jjj: %s", sel())
	}
}

func TestTabKeys(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	for _, s := range []struct {
		key string
		tab int
	}{{"tab", 1}, {"tab", 2}, {"shift+tab", 1}, {"5", 4}, {"tab", 0}, {"shift+tab", 4}, {"3", 2}, {"1", 0}} {
		if tt.keys(s.key); tt.m.tab != s.tab {
			t.Fatalf("after %s: tab %d, want %d", s.key, tt.m.tab, s.tab)
		}
	}
	tt.keys("4")
	tt.wantScreen("[4 Blind spots]", "WHAT THE RECORDING COULD NOT SEE")
}

func TestOpenComponentAndCouplingThenBack(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).selectComponent("shop-app").keys("enter")
	c, ok := tt.m.active().(*component.Model)
	if !ok || c.Name() != "shop-app" {
		t.Fatalf("enter opened %T", tt.m.active())
	}
	tt.wantScreen("Overview › shop-app", "legacyshop/app.sock", "SHARES", "connect/write/read")
	key := ""
	for _, cp := range tt.m.Plan().Couplings {
		if cp.Kind == graph.KindTCP && cp.Resource == "127.0.0.1:5433" && cp.Components[0] == "shop-app" {
			key = intent.CouplingKey(cp)
		}
	}
	if !c.Select("coupling:" + key) {
		t.Fatal("the tcp coupling to shop-db is not listed on shop-app's page")
	}
	tt.keys("enter")
	cp, ok := tt.m.active().(*coupling.Model)
	if !ok || cp.Key() != key {
		t.Fatalf("enter on a shared resource opened %T", tt.m.active())
	}
	tt.wantScreen("CROSSES PODS", "remedy: point the client at the Service name", "shop-db in pod shop-db")
	tt.keys("esc")
	if _, ok := tt.m.active().(*component.Model); !ok {
		t.Fatalf("esc did not go back to the component: %T", tt.m.active())
	}
	tt.keys("backspace")
	if len(tt.m.stack) != 0 || tt.m.active() != tt.m.overview {
		t.Fatal("backspace did not go back to the overview")
	}
}

func TestEnterOnPodOpensIt(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	tt.m.overview.Select("pod", "shop-db")
	tt.keys("m")
	if tt.m.state != stateBrowse || !strings.Contains(tt.m.status.text, "put the cursor on a component") {
		t.Fatalf("m on a pod: state %v, status %q", tt.m.state, tt.m.status.text)
	}
	tt.keys("enter")
	if p, ok := tt.m.active().(*pod.Model); !ok || p.Name() != "shop-db" {
		t.Fatalf("enter on a pod opened %T", tt.m.active())
	}
	tt.wantScreen("Overview › pod shop-db", "StatefulSet", "PersistentVolumeClaim legacyshop-db", "COUPLINGS CROSSING ITS BOUNDARY")
	tt.keys("esc", "M", "j", "enter") // merge shop-web into shop-db: the page says the pod is gone
	tt.send(intent.OpenPod{Name: "shop-web"})
	tt.wantScreen("no longer in the plan")
}

func TestFilterKeys(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).keys("/")
	if tt.m.state != stateFilter {
		t.Fatalf("/ gave state %v", tt.m.state)
	}
	tt.typeText("audit")
	if tt.m.overview.Filter() != "audit" {
		t.Fatalf("filter %q", tt.m.overview.Filter())
	}
	if s := tt.screen(); !strings.Contains(s, "shop-audit") || strings.Contains(s, "shop-cache") {
		t.Fatalf("filter audit shows:\n%s", s)
	}
	tt.keys("enter")
	if tt.m.state != stateBrowse || tt.m.overview.Filter() != "audit" {
		t.Fatalf("enter: state %v, filter %q", tt.m.state, tt.m.overview.Filter())
	}
	tt.keys("/", "esc")
	if tt.m.state != stateBrowse || tt.m.overview.Filter() != "" {
		t.Fatalf("/ esc: state %v, filter %q", tt.m.state, tt.m.overview.Filter())
	}
	tt.keys("/").typeText("5433").keys("enter", "2")
	if tt.m.tabs[1].Filter() != "" {
		t.Fatal("a filter leaked to another tab")
	}
	tt.keys("/").typeText("crosses").keys("enter")
	rows := tt.m.tabs[1].(*couplinglist.Model)
	if !strings.Contains(rows.Selected(), "config") || strings.Contains(tt.screen(), "SIGHUP") {
		t.Fatalf("filter crosses in couplings:\n%s", tt.screen())
	}
	tt.keys("esc")
	if tt.m.tabs[1].Filter() != "" {
		t.Fatal("esc did not clear the tab's filter")
	}
}

func TestSortKeys(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	for _, want := range []overview.Sort{overview.ByBytes, overview.ByCount, overview.ByName} {
		if tt.keys("s"); tt.m.overview.SortOrder() != want {
			t.Fatalf("overview sort %v, want %v", tt.m.overview.SortOrder(), want)
		}
	}
	tt.keys("s") // by bytes: shop-web's pod moves most bytes
	if k, n := tt.m.overview.Selected(); k+n != "podshop-cache" {
		t.Fatalf("the cursor left its row on sorting: %s %s", k, n)
	}
	if first := tt.m.overview.Select("pod", "shop-web"); !first || !strings.Contains(strings.Split(tt.screen(), "\n")[3], "shop-web") {
		t.Fatalf("by bytes, shop-web is not first:\n%s", tt.screen())
	}
	tt.keys("2", "s")
	list := tt.m.tabs[1].(*couplinglist.Model)
	if list.SortOrder() != couplinglist.ByBytes || !strings.Contains(list.Selected(), "shop.conf") {
		t.Fatalf("couplings by bytes: %v, first %q", list.SortOrder(), list.Selected())
	}
	tt.keys("s", "s")
	if list.SortOrder() != couplinglist.CrossingFirst {
		t.Fatalf("couplings sort %v", list.SortOrder())
	}
}

func TestMoveThroughPicker(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	before := tt.m.Plan().Quality
	tt.selectComponent("shop-audit").keys("m")
	if tt.m.state != statePick || len(tt.m.picker.Options()) != 3 {
		t.Fatalf("m: state %v, options %v", tt.m.state, tt.m.picker.Options())
	}
	tt.keys("j", "j", "enter")
	if got := tt.podOf("shop-audit"); got != "shop-db" {
		t.Fatalf("shop-audit is in %s", got)
	}
	q := tt.m.Plan().Quality
	if q.CouplingsCut != before.CouplingsCut+1 || q.HiddenCrossing != before.HiddenCrossing+1 {
		t.Fatalf("quality not recomputed: %+v -> %+v", before, q)
	}
	if tt.m.status.kind != statusOK || !strings.Contains(tt.m.status.text, "move shop-audit from shop-web to shop-db") {
		t.Fatalf("status %+v", tt.m.status)
	}
	tt.wantScreen("1 edit", "unsaved", "high fifo /srv/legacyshop/run/legacyshop/audit.fifo crosses pods", "3 Warnings (2)")
	if d := tt.m.diff.Changes(); len(d) != 1 || d[0] != "shop-audit: shop-web -> shop-db" {
		t.Fatalf("diff %v", d)
	}
}

func TestRefusedMoveShowsReason(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	before := tt.m.Plan()
	tt.selectComponent("shop-worker").keys("m", "j", "enter") // to shop-cache
	if tt.m.Plan() != before || tt.m.hist.CanUndo() {
		t.Fatal("a refused move changed the plan or the history")
	}
	if tt.m.status.kind != statusError || !strings.Contains(tt.m.status.text, "refused") || !strings.Contains(tt.m.status.text, "anonymous pipe") {
		t.Fatalf("status %+v", tt.m.status)
	}
	tt.wantScreen("refused: move shop-worker to shop-cache", "must stay in one container")
}

func TestPickerCancel(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).selectComponent("shop-audit").keys("m", "esc")
	if tt.m.state != stateBrowse || tt.m.hist.CanUndo() || tt.m.status.text != "cancelled" {
		t.Fatalf("esc in the picker: state %v, status %q", tt.m.state, tt.m.status.text)
	}
}

func TestMoveToNewPod(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).selectComponent("shop-audit").keys("n")
	if got := tt.podOf("shop-audit"); got != "shop-audit" || len(tt.m.Plan().Pods) != 4 {
		t.Fatalf("n: shop-audit in %s, %d pods", got, len(tt.m.Plan().Pods))
	}
}

func TestMergePods(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	tt.m.overview.Select("pod", "shop-web")
	tt.keys("M")
	if tt.m.state != statePick || len(tt.m.picker.Options()) != 2 {
		t.Fatalf("M: state %v, options %v", tt.m.state, tt.m.picker.Options())
	}
	tt.keys("j", "enter") // shop-db into shop-web
	if got := tt.podOf("shop-db"); got != "shop-web" || len(tt.m.Plan().Pods) != 2 {
		t.Fatalf("merge: shop-db in %s, %d pods", got, len(tt.m.Plan().Pods))
	}
	if tt.m.Plan().Quality.CouplingsCut != 2 {
		t.Fatalf("merged plan cuts %d couplings", tt.m.Plan().Quality.CouplingsCut)
	}
}

func TestMarkAndSplit(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).selectComponent("shop-logger").keys("space")
	if k, n := tt.m.overview.Selected(); k+n != "componentshop-metrics" {
		t.Fatalf("space did not move down: %s %s", k, n)
	}
	tt.selectComponent("shop-worker").keys("space")
	if got := tt.m.overview.Marked(); strings.Join(got, ",") != "shop-logger,shop-worker" {
		t.Fatalf("marked %v", got)
	}
	tt.wantScreen(" * ")
	tt.keys("S")
	if a, b := tt.podOf("shop-logger"), tt.podOf("shop-worker"); a != b || a == "shop-web" {
		t.Fatalf("split: %s and %s", a, b)
	}
	if len(tt.m.overview.Marked()) != 0 {
		t.Fatal("marks survived the split")
	}
	tt.selectComponent("shop-logger").keys("space", "S") // alone: the pipe to shop-worker forbids it
	if tt.m.status.kind != statusError || len(tt.m.overview.Marked()) != 1 {
		t.Fatalf("refused split: %+v, marks %v", tt.m.status, tt.m.overview.Marked())
	}
}

func TestUndoRedo(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	orig := tt.m.Plan()
	tt.keys("u")
	if tt.m.status.text != "nothing to undo" {
		t.Fatalf("u with no edits: %q", tt.m.status.text)
	}
	tt.selectComponent("shop-audit").keys("n")
	moved := tt.m.Plan()
	tt.keys("u")
	if tt.m.Plan() != orig || tt.podOf("shop-audit") != "shop-web" || tt.m.Dirty() {
		t.Fatal("undo did not restore the loaded plan")
	}
	tt.keys("U")
	if tt.m.Plan() != moved {
		t.Fatal("U did not redo")
	}
	tt.keys("u", "ctrl+r")
	if tt.m.Plan() != moved || !strings.HasPrefix(tt.m.status.text, "redone: move shop-audit") {
		t.Fatalf("ctrl+r did not redo: %q", tt.m.status.text)
	}
	tt.keys("ctrl+r")
	if tt.m.status.text != "nothing to redo" {
		t.Fatalf("ctrl+r at the end: %q", tt.m.status.text)
	}
}

func TestSaveWritesAPlanReadPlanAccepts(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).selectComponent("shop-audit").keys("m", "j", "j", "enter", "w")
	if tt.m.state != stateSave || tt.m.prompt.Value() != tt.m.opts.SavePath {
		t.Fatalf("w: state %v, prompt %q", tt.m.state, tt.m.prompt.Value())
	}
	path := filepath.Join(t.TempDir(), "edited.json")
	tt.keys("ctrl+u").typeText(path).keys("enter")
	if tt.m.SavedTo() != path || tt.m.Dirty() || tt.m.status.kind != statusOK {
		t.Fatalf("after saving: savedTo %q, dirty %v, status %+v", tt.m.SavedTo(), tt.m.Dirty(), tt.m.status)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := graph.ReadPlan(f, path)
	if err != nil {
		t.Fatalf("the saved plan does not read back: %v", err)
	}
	if d := graph.Diff(legacyshop(t), p); len(d) != 1 || d[0] != "shop-audit: shop-web -> shop-db" {
		t.Fatalf("saved plan's diff from the proposal: %v", d)
	}
	tt.keys("q")
	if !tt.quit {
		t.Fatal("q after saving asked to confirm")
	}
}

func TestSaveFailureAndCancel(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).keys("w", "esc")
	if tt.m.state != stateBrowse || tt.m.status.text != "not saved" {
		t.Fatalf("esc in the save prompt: %v %q", tt.m.state, tt.m.status.text)
	}
	tt.keys("w", "ctrl+u").typeText("/nonexistent/dir/plan.json").keys("enter")
	if tt.m.status.kind != statusError || !strings.Contains(tt.m.status.text, "writable") || tt.m.SavedTo() != "" {
		t.Fatalf("unwritable save: %+v", tt.m.status)
	}
	tt.keys("w", "ctrl+u", "enter")
	if tt.m.state != stateSave || tt.m.status.kind != statusError {
		t.Fatalf("an empty file name: state %v, status %+v", tt.m.state, tt.m.status)
	}
}

func TestQuitConfirmsUnsavedEdits(t *testing.T) {
	for _, quitKey := range []string{"q", "ctrl+c"} {
		tt := loaded(t, legacyshop(t), 80, 24).selectComponent("shop-audit").keys("n", quitKey)
		if tt.quit || tt.m.state != stateConfirmQuit {
			t.Fatalf("%s with edits: quit %v, state %v", quitKey, tt.quit, tt.m.state)
		}
		tt.wantScreen("not saved: y quits without saving")
		tt.keys("n")
		if tt.quit || tt.m.state != stateBrowse {
			t.Fatalf("n: quit %v, state %v", tt.quit, tt.m.state)
		}
		tt.keys(quitKey, "y")
		if !tt.quit {
			t.Fatalf("%s y did not quit", quitKey)
		}
	}
	tt := loaded(t, legacyshop(t), 80, 24).keys("q")
	if !tt.quit {
		t.Fatal("q without edits did not quit at once")
	}
	tt = loaded(t, legacyshop(t), 80, 24).selectComponent("shop-audit").keys("n", "w", "ctrl+c")
	if tt.quit || tt.m.state != stateConfirmQuit {
		t.Fatalf("ctrl+c in the save prompt: quit %v, state %v", tt.quit, tt.m.state)
	}
	if tt.keys("ctrl+c"); !tt.quit {
		t.Fatal("a second ctrl+c did not quit")
	}
}

func TestQuitSavesFirst(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).selectComponent("shop-audit").keys("n", "q", "w")
	if tt.m.state != stateSave {
		t.Fatalf("w in the quit question: state %v", tt.m.state)
	}
	tt.keys("enter")
	if !tt.quit || tt.m.SavedTo() == "" {
		t.Fatalf("save then quit: quit %v, saved %q", tt.quit, tt.m.SavedTo())
	}
}

func TestHelpKey(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	short := tt.m.sized[1]
	tt.keys("?")
	if !tt.m.help.ShowAll || tt.m.sized[1] >= short {
		t.Fatalf("? : full help %v, content %d lines (was %d)", tt.m.help.ShowAll, tt.m.sized[1], short)
	}
	tt.wantScreen("previous view", "redo", "split marked")
	tt.keys("?")
	if tt.m.help.ShowAll || tt.m.sized[1] != short {
		t.Fatal("? did not close the full help")
	}
}

func TestEditFromComponentPage(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24).selectComponent("shop-audit").keys("enter", "n")
	if tt.podOf("shop-audit") != "shop-audit" {
		t.Fatal("n on the component page did not move it")
	}
	tt.wantScreen("shop-audit  in pod shop-audit")
	tt.keys("m")
	if tt.m.state != statePick {
		t.Fatalf("m on the component page: state %v", tt.m.state)
	}
	for _, o := range tt.m.picker.Options() {
		if o.Value == "shop-web" {
			break
		}
		tt.keys("j")
	}
	tt.keys("enter")
	if tt.podOf("shop-audit") != "shop-web" || len(tt.m.Plan().Pods) != 3 {
		t.Fatalf("moved back: in %s, %d pods", tt.podOf("shop-audit"), len(tt.m.Plan().Pods))
	}
	tt.wantScreen("shop-audit  in pod shop-web")
	tt.keys("s")
	if tt.m.active().(*component.Model).SortOrder() != component.ByBytes {
		t.Fatal("s on the component page did not sort")
	}
}

func TestMouse(t *testing.T) {
	tt := loaded(t, legacyshop(t), 80, 24)
	tt.send(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress, Y: 5})
	if k, n := tt.m.overview.Selected(); n != "rotate-logs.sh" {
		t.Fatalf("wheel down: %s %s", k, n)
	}
	// the table starts on line 2, under its header line: line 5 is the 3rd row
	tt.send(tea.MouseMsg{Button: tea.MouseButtonLeft, Action: tea.MouseActionPress, Y: 5})
	if _, n := tt.m.overview.Selected(); n != "shop-cache" {
		t.Fatalf("click on line 5 selected %s", n)
	}
	x := strings.Index(strings.Split(tt.screen(), "\n")[1], "2 Couplings")
	tt.send(tea.MouseMsg{Button: tea.MouseButtonLeft, Action: tea.MouseActionPress, X: x, Y: 1})
	if tt.m.tab != 1 {
		t.Fatalf("click on the Couplings tab: tab %d", tt.m.tab)
	}
}
