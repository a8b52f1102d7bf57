package table

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

func rows() []Row {
	return []Row{
		{Kind: Heading, Cells: []string{"FIRST"}},
		{Key: "a", Cells: []string{"a", "1"}},
		{Key: "b", Cells: []string{"/very/long/path/to/the/file.sock", "2"}, KeepEnd: true},
		{Kind: Note, Cells: []string{"a note"}},
		{Kind: Heading, Cells: []string{"SECOND"}},
		{Key: "c", Cells: []string{"c", "3"}},
	}
}

func newTable() Model {
	m := New([]Column{{Title: "NAME", Flex: true}, {Title: "N", Width: 3, Right: true}, {Title: "WIDE", Width: 10, MinTotal: 100}}, true)
	m.SetSize(20, 4)
	m.SetRows(rows())
	return m
}

func TestCursorSkipsHeadingsAndNotes(t *testing.T) {
	m := newTable()
	if r, _ := m.Selected(); r.Key != "a" {
		t.Fatalf("first item: %q", r.Key)
	}
	down := tea.KeyMsg{Type: tea.KeyDown}
	m.Update(down)
	m.Update(down)
	if r, _ := m.Selected(); r.Key != "c" {
		t.Fatalf("two downs: %q", r.Key)
	}
	m.Update(down)
	if r, _ := m.Selected(); r.Key != "c" {
		t.Fatalf("down at the end: %q", r.Key)
	}
	if v := m.View(); !strings.Contains(v, "SECOND") || !strings.Contains(v, "> c") {
		t.Fatalf("the heading above the cursor is not shown:\n%s", v)
	}
}

func TestSetRowsKeepsTheCursorOnItsKey(t *testing.T) {
	m := newTable()
	m.Select("b")
	r := rows()
	r[1], r[2] = r[2], r[1]
	m.SetRows(r)
	if s, _ := m.Selected(); s.Key != "b" {
		t.Fatalf("cursor moved to %q", s.Key)
	}
	m.SetRows(r[:2]) // b is gone: stay near
	if s, _ := m.Selected(); s.Key != "b" && s.Key != "a" {
		t.Fatalf("cursor on %q", s.Key)
	}
}

func TestViewFitsAndKeepsPathEnds(t *testing.T) {
	m := newTable()
	m.Select("b")
	lines := strings.Split(m.View(), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if ansi.StringWidth(l) != 20 {
			t.Errorf("line %q is %d wide", l, ansi.StringWidth(l))
		}
	}
	if !strings.Contains(m.View(), "file.sock") || strings.Contains(m.View(), "WIDE") {
		t.Fatalf("path end lost or narrow-hidden column shown:\n%s", m.View())
	}
}
