package format

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestFitAndPadKeepWidthAndEscapeControls(t *testing.T) {
	for _, s := range []string{"plain", "/srv/\x1b]0;pwned\x07\x1b[2J", "wide 表表表表表表", "bidi \u202e evil", "bad \xff utf8", strings.Repeat("x", 200)} {
		for _, w := range []int{1, 5, 12, 40} {
			f := Fit(s, w)
			if ansi.StringWidth(f) > w || strings.ContainsAny(f, "\x1b\x07\u202e") {
				t.Errorf("Fit(%q, %d) = %q", s, w, f)
			}
			if p := Pad(s, w, true); ansi.StringWidth(p) != w {
				t.Errorf("Pad(%q, %d) is %d wide", s, w, ansi.StringWidth(p))
			}
		}
	}
}

func TestWrap(t *testing.T) {
	lines := Wrap("shop-app, shop-cache all read /srv/legacyshop/etc/legacyshop/shop.conf \x1b[31m and nobody writes it", 30, "    ")
	for i, l := range lines {
		if ansi.StringWidth(l) > 30 || strings.Contains(l, "\x1b") || (i > 0 && !strings.HasPrefix(l, "    ")) {
			t.Errorf("line %d %q", i, l)
		}
	}
	if len(lines) < 3 || !strings.Contains(strings.Join(lines, ""), `\x1b[31m`) {
		t.Errorf("wrapped: %q", lines)
	}
}

func TestNumbers(t *testing.T) {
	for got, want := range map[string]string{
		Count(999): "999", Count(12345): "12 345", Count(1234567): "1 234 567", Count(-12345): "-12 345",
		Duration(850_000): "850µs", Duration(12_000_000): "12ms", Duration(1_250_000_000): "1.25s",
		Duration(187_000_000_000): "3m07s", Duration(7_500_000_000_000): "2h05m",
		Time(0): "not seen", Time(1767225600029000000): "2026-01-01 00:00:00.029 UTC",
		Plural(1, "pod", "pods"): "1 pod", Plural(3, "pod", "pods"): "3 pods",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
