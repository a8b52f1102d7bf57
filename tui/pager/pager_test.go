package pager

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestFilterKeepsHeadingsOfMatches(t *testing.T) {
	m := New()
	m.SetSize(40, 10)
	m.SetContent([]Para{Heading("ONE"), Text("apple"), Text("banana"), Blank(), Heading("TWO"), Text("cherry")})
	m.SetFilter("an")
	got := strings.Join(m.Lines(), "\n")
	if !strings.Contains(got, "ONE") || !strings.Contains(got, "banana") || strings.Contains(got, "TWO") || strings.Contains(got, "apple") {
		t.Fatalf("filter an:\n%s", got)
	}
	m.SetFilter("zzz")
	if !strings.Contains(strings.Join(m.Lines(), ""), "nothing matches") {
		t.Fatal("an empty result does not say so")
	}
}

func TestScrollStopsAtTheEnds(t *testing.T) {
	m := New()
	m.SetSize(20, 3)
	var paras []Para
	for i := 0; i < 10; i++ {
		paras = append(paras, Text("line"))
	}
	m.SetContent(paras)
	m.Update(tea.KeyMsg{Type: tea.KeyEnd})
	if m.Offset() != 7 {
		t.Fatalf("end: offset %d", m.Offset())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyPgDown})
	if m.Offset() != 7 {
		t.Fatalf("past the end: offset %d", m.Offset())
	}
	m.Update(tea.MouseMsg{Button: tea.MouseButtonWheelUp})
	if m.Offset() != 4 {
		t.Fatalf("wheel up: offset %d", m.Offset())
	}
	if !strings.Contains(m.View(), "more lines") {
		t.Fatalf("no hint of what is below:\n%s", m.View())
	}
}
