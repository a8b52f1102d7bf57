// Package diff is the terminal UI's comparison of the edited plan with the
// plan as loaded (the engine's proposal): which components moved (graph.Diff),
// the edits made, the quality figures before and after, and the warnings
// the edits added or removed.
package diff

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/pager"
	"github.com/decompose-dev/decompose/tui/theme"
)

// Model is the diff view.
type Model struct {
	original, plan *graph.Plan
	edits          []string
	changes        int
	pager          pager.Model
	filter         string
}

// New returns an empty view; SetPlan fills it.
func New() *Model { return &Model{pager: pager.New()} }

// Title names the view in the tab bar.
func (m *Model) Title() string {
	if m.changes == 0 {
		return "Diff"
	}
	return fmt.Sprintf("Diff (%d)", m.changes)
}

// SetPlan compares current with original.
func (m *Model) SetPlan(original, current *graph.Plan) {
	m.original, m.plan = original, current
	m.refresh()
}

// SetEdits lists the edits made since the plan was loaded, oldest first.
func (m *Model) SetEdits(edits []string) {
	m.edits = edits
	m.refresh()
}

// Changes returns the graph.Diff lines shown.
func (m *Model) Changes() []string { return graph.Diff(m.original, m.plan) }

// SetFilter keeps the lines containing q.
func (m *Model) SetFilter(q string) {
	m.filter = q
	m.pager.SetFilter(q)
}

// Filter returns the current filter.
func (m *Model) Filter() string { return m.filter }

// SetSize gives the view its area.
func (m *Model) SetSize(width, height int) { m.pager.SetSize(width, height) }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Update scrolls.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.pager.Update(msg)
	return m, nil
}

// View draws the view.
func (m *Model) View() string { return m.pager.View() }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	k := m.pager.KeyMap()
	return []key.Binding{k.Down, k.PageDown}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.pager.KeyMap().Help()}
}

func (m *Model) refresh() {
	if m.plan == nil {
		return
	}
	changes := graph.Diff(m.original, m.plan)
	m.changes = len(changes)
	out := []pager.Para{pager.Heading("COMPONENTS PLACED DIFFERENTLY FROM THE LOADED PLAN")}
	for _, c := range changes {
		out = append(out, pager.Text("- "+c))
	}
	if len(changes) == 0 {
		out = append(out, pager.Text("none: this is the plan as loaded"))
	}
	out = append(out, pager.Blank(), pager.Heading("EDITS (u undoes the last)"))
	for i, e := range m.edits {
		out = append(out, pager.Text(fmt.Sprintf("%d. %s", i+1, e)))
	}
	if len(m.edits) == 0 {
		out = append(out, pager.Text("none"))
	}
	out = append(out, pager.Blank(), pager.Heading(fmt.Sprintf("%-28s %9s  %9s", "QUALITY", "loaded", "now")))
	out = append(out, quality(m.original, m.plan)...)
	out = append(out, pager.Blank())
	out = append(out, warningChanges(m.original, m.plan)...)
	m.pager.SetContent(out)
}

func quality(o, p *graph.Plan) []pager.Para {
	a, b := o.Quality, p.Quality
	rows := []struct {
		name     string
		was, now string
	}{
		{"pods", fmt.Sprint(len(o.Pods)), fmt.Sprint(len(p.Pods))},
		{"couplings crossing pods", fmt.Sprintf("%d/%d", a.CouplingsCut, a.Couplings), fmt.Sprintf("%d/%d", b.CouplingsCut, b.Couplings)},
		{"bytes crossing pods", format.Bytes(a.BytesCut), format.Bytes(b.BytesCut)},
		{"modularity", fmt.Sprintf("%.4f", a.Modularity), fmt.Sprintf("%.4f", b.Modularity)},
		{"hidden couplings crossing", fmt.Sprint(a.HiddenCrossing), fmt.Sprint(b.HiddenCrossing)},
		{"hidden couplings inside", fmt.Sprint(a.HiddenInsidePods), fmt.Sprint(b.HiddenInsidePods)},
		{"warnings", fmt.Sprint(len(o.Warnings)), fmt.Sprint(len(p.Warnings))},
	}
	out := make([]pager.Para, 0, len(rows))
	for _, r := range rows {
		line := fmt.Sprintf("  %-26s %9s  %9s", r.name, r.was, r.now)
		if r.was != r.now {
			out = append(out, pager.Styled(line+"  changed", theme.Crossing))
			continue
		}
		out = append(out, pager.Text(line))
	}
	return out
}

func warningChanges(o, p *graph.Plan) []pager.Para {
	in := func(ws []graph.Warning) map[string]bool {
		m := map[string]bool{}
		for _, w := range ws {
			m[w.Message] = true
		}
		return m
	}
	before, after := in(o.Warnings), in(p.Warnings)
	out := []pager.Para{pager.Heading("WARNINGS THE EDITS ADDED")}
	n := len(out)
	for _, w := range p.Warnings {
		if !before[w.Message] {
			out = append(out, pager.Styled("+ "+w.Severity+": "+w.Message, theme.Severity(w.Severity)))
		}
	}
	if len(out) == n {
		out = append(out, pager.Text("none"))
	}
	out = append(out, pager.Blank(), pager.Heading("WARNINGS THE EDITS REMOVED"))
	n = len(out)
	for _, w := range o.Warnings {
		if !after[w.Message] {
			out = append(out, pager.Text("- "+w.Severity+": "+w.Message))
		}
	}
	if len(out) == n {
		out = append(out, pager.Text("none"))
	}
	return out
}
