package tui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/intent"
)

// everyScreen visits each tab, the page of every component and every
// coupling, the picker, the full help and the prompts, and returns what
// each looked like.
func everyScreen(tt *tester) map[string]string {
	out := map[string]string{}
	for i := 1; i <= 5; i++ {
		tt.keys(fmt.Sprint(i))
		out[fmt.Sprintf("tab %d", i)] = tt.screen()
	}
	tt.keys("1")
	for _, c := range tt.m.Plan().Components {
		tt.send(intent.OpenComponent{Name: c.Name})
		out["component "+c.Name] = tt.screen()
		tt.keys("esc")
	}
	for _, p := range tt.m.Plan().Pods {
		tt.send(intent.OpenPod{Name: p.Name})
		out["pod "+p.Name] = tt.screen()
		tt.keys("esc")
	}
	for _, c := range tt.m.Plan().Couplings {
		tt.send(intent.OpenCoupling{Key: intent.CouplingKey(c)})
		out["coupling "+c.Resource] = tt.screen()
		tt.keys("G") // the last lines too
		out["coupling end "+c.Resource] = tt.screen()
		tt.keys("esc")
	}
	tt.send(intent.Move{Component: tt.m.Plan().Components[0].Name})
	out["picker"] = tt.screen()
	tt.keys("esc", "?")
	out["help"] = tt.screen()
	tt.keys("?", "/")
	out["filter prompt"] = tt.screen()
	tt.keys("esc", "w")
	out["save prompt"] = tt.screen()
	tt.keys("esc")
	return out
}

// hostile returns the legacyshop plan with escape sequences, control
// characters and bidi overrides in component names, paths, hosts and
// argv: what a malicious process on the traced VM can name things.
func hostile(t *testing.T) *graph.Plan {
	b, err := json.Marshal(legacyshop(t))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, evil := range map[string]string{
		`shop-audit`: `shop-audit\u001b]0;pwned\u0007\u001b[2J`,
		`audit.fifo`: `audit\r\n\u001b[31m\u202e.fifo`,
		`legacy-vm`:  `legacy\u001b[5m-vm\u0007`,
		`shop.conf`:  `shop\u009b31m.conf\u0000`,
		`"cat"`:      `"cat\u001bP+q\u001b\\"`,
	} {
		s = strings.ReplaceAll(s, old, evil)
	}
	var p graph.Plan
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	p.Recompute()
	return &p
}

// TestHostileNamesCannotDriveTheTerminal renders every screen of a plan
// whose names carry escape sequences: with the Ascii profile the UI itself
// writes no escape, so any control character on screen came from the trace.
func TestHostileNamesCannotDriveTheTerminal(t *testing.T) {
	p := hostile(t)
	tt := loaded(t, p, 100, 30)
	tt.m.opts.Source = "evil\x1b[2J.trace"
	tt.send(intent.Split{Components: []string{"shop-audit\x1b]0;pwned\x07\x1b[2J"}})
	if tt.m.status.kind != statusOK {
		t.Fatalf("a hostile name broke an edit: %+v", tt.m.status)
	}
	screens := everyScreen(tt)
	for name, s := range screens {
		if i := strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || r == '\u202e' }); i >= 0 {
			t.Errorf("%s: control character %q reached the screen at %d:\n%s", name, s[i], i, s)
		}
	}
	if !strings.Contains(screens["tab 1"], `shop-audit\x1b]0;pwned\a\x1b[2J`) {
		t.Errorf("the hostile name is not shown escaped:\n%s", screens["tab 1"])
	}
}

// TestEveryScreenFitsEverySize checks that every screen is exactly the
// window's height and no line is wider than the window, at the sizes a
// terminal can have, including after resizing with pages open.
func TestEveryScreenFitsEverySize(t *testing.T) {
	sizes := [][2]int{{80, 24}, {120, 40}, {100, 30}, {40, 10}, {200, 60}, {30, 8}, {81, 25}}
	tt := loaded(t, withBlindSpots(legacyshop(t)), 80, 24)
	tt.selectComponent("shop-audit").keys("n") // an edit, so the diff has content
	for _, size := range sizes {
		tt.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for name, s := range everyScreen(tt) {
			checkFits(t, fmt.Sprintf("%s at %dx%d", name, size[0], size[1]), s, size[0], size[1])
		}
	}
	tt.send(intent.OpenComponent{Name: "shop-app"})
	for _, size := range sizes {
		tt.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		checkFits(t, fmt.Sprintf("component page resized to %dx%d", size[0], size[1]), tt.screen(), size[0], size[1])
		tt.keys("G")
		if s := tt.screen(); size[1] >= minHeight && size[0] >= minWidth && !strings.Contains(s, "> ") {
			t.Errorf("at %dx%d the cursor row is not on screen:\n%s", size[0], size[1], s)
		}
	}
}

func checkFits(t *testing.T, name, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("%s: %d lines, want %d", name, len(lines), h)
	}
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("%s: line %d is %d wide: %q", name, i, lw, l)
		}
	}
}
