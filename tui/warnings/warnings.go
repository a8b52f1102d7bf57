// Package warnings is the terminal UI's list of what a person must look at
// before splitting: hidden couplings crossing pods, data written from
// several pods, blind spots. Warnings that edits added since the loaded
// plan are tagged [new].
package warnings

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/pager"
	"github.com/decompose-dev/decompose/tui/theme"
)

// Model is the list of warnings.
type Model struct {
	pager  pager.Model
	filter string
	count  int
}

// New returns an empty list; SetPlan fills it.
func New() *Model { return &Model{pager: pager.New()} }

// Title names the view in the tab bar.
func (m *Model) Title() string { return fmt.Sprintf("Warnings (%d)", m.count) }

// SetPlan shows current's warnings, tagging those original lacks.
func (m *Model) SetPlan(original, current *graph.Plan) {
	m.count = len(current.Warnings)
	before := map[string]bool{}
	for _, w := range original.Warnings {
		before[w.Message] = true
	}
	var paras []pager.Para
	for _, sev := range []string{"high", "info"} {
		var group []pager.Para
		for _, w := range current.Warnings {
			if w.Severity != sev {
				continue
			}
			text := "- " + w.Message
			if !before[w.Message] {
				text = "- [new] " + w.Message
			}
			group = append(group, pager.Styled(text, theme.Severity(sev)))
		}
		paras = append(paras, pager.Heading(fmt.Sprintf("%s (%d)", map[string]string{"high": "HIGH: the split breaks something until changed", "info": "INFO: handled by the manifests, worth knowing"}[sev], len(group))))
		paras = append(paras, group...)
		paras = append(paras, pager.Blank())
	}
	m.pager.SetContent(paras)
}

// SetFilter keeps the warnings containing q.
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

// View draws the list.
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
