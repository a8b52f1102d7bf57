// Package blindspots is the terminal UI's account of what the recording
// could not see (dropped events, unsupported hooks, mmap'd I/O) and what
// the analysis left out (components sharing nothing, the recorder itself,
// ignored names, platform files), so that nothing is silently missing.
package blindspots

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/intent"
	"github.com/decompose-dev/decompose/tui/pager"
)

// KeyMap are the view's bindings.
type KeyMap struct {
	Sort  key.Binding
	Pager pager.KeyMap
}

// Model is the blind spots view.
type Model struct {
	plan    *graph.Plan
	pager   pager.Model
	filter  string
	byCount bool
	keys    KeyMap
}

// New returns an empty view; SetPlan fills it.
func New() *Model {
	return &Model{pager: pager.New(), keys: KeyMap{
		Sort:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Pager: pager.DefaultKeyMap(),
	}}
}

// Title names the view in the tab bar.
func (m *Model) Title() string { return "Blind spots" }

// SetPlan shows current's blind spots.
func (m *Model) SetPlan(_, current *graph.Plan) {
	m.plan = current
	m.pager.SetContent(m.paras())
}

// SetFilter keeps the lines containing q.
func (m *Model) SetFilter(q string) {
	m.filter = q
	m.pager.SetFilter(q)
}

// Filter returns the current filter.
func (m *Model) Filter() string { return m.filter }

// ByCount reports whether blind spots are sorted by count.
func (m *Model) ByCount() bool { return m.byCount }

// SetSize gives the view its area.
func (m *Model) SetSize(width, height int) { m.pager.SetSize(width, height) }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Update sorts and scrolls.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, m.keys.Sort) {
		m.byCount = !m.byCount
		m.pager.SetContent(m.paras())
		order := "host and name"
		if m.byCount {
			order = "count"
		}
		return m, intent.Send(intent.Notice{Text: "blind spots sorted by " + order})
	}
	m.pager.Update(msg)
	return m, nil
}

// View draws the view.
func (m *Model) View() string { return m.pager.View() }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Pager.Down, m.keys.Sort} }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.keys.Pager.Help(), {m.keys.Sort}}
}

func (m *Model) paras() []pager.Para {
	spots := append([]graph.BlindSpot(nil), m.plan.BlindSpots...)
	if m.byCount {
		sort.SliceStable(spots, func(i, j int) bool { return spots[i].Count > spots[j].Count })
	}
	out := []pager.Para{pager.Heading("WHAT THE RECORDING COULD NOT SEE")}
	for _, b := range spots {
		s := fmt.Sprintf("- %s: %s", b.What, format.Count(b.Count))
		if b.Host != "" {
			s += " on " + b.Host
		}
		if b.Detail != "" {
			s += " — " + b.Detail
		}
		out = append(out, pager.Text(s))
	}
	if len(spots) == 0 {
		out = append(out, pager.Text("none recorded"))
	}
	ex := m.plan.Excluded
	out = append(out, pager.Blank(), pager.Heading("LEFT OUT OF THE ANALYSIS"),
		pager.Text(fmt.Sprintf("- sharing nothing with the others (%d): %s", len(ex.ShareNothing), orNone(ex.ShareNothing))),
		pager.Text(fmt.Sprintf("- ignored by --ignore (%d): %s", len(ex.Ignored), orNone(ex.Ignored))),
		pager.Text(fmt.Sprintf("- processes of the recorder itself: %d", ex.Recorder)),
		pager.Text(fmt.Sprintf("- accesses to platform files a base image provides: %d", ex.PlatformFiles)),
		pager.Blank(), pager.Heading("ANALYSIS"),
		pager.Text("- hosts: "+orNone(m.plan.Hosts)),
		pager.Text(fmt.Sprintf("- resolution: %g", m.plan.Resolution)),
	)
	return out
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "none"
	}
	return strings.Join(ss, ", ")
}
