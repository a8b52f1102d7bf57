// Package couplinglist is the terminal UI's list of every coupling in the
// plan: kind, resource, sides, distance class, whether it crosses pods,
// bytes and operations, sortable and filterable; enter opens one.
package couplinglist

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/tui/facts"
	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/intent"
	"github.com/decompose-dev/decompose/tui/table"
	"github.com/decompose-dev/decompose/tui/theme"
)

// Sort orders the list.
type Sort int

// The sort orders, cycled by the sort key.
const (
	ByPlan Sort = iota
	ByBytes
	ByCount
	CrossingFirst
)

func (s Sort) String() string {
	return [...]string{"plan order", "bytes", "operations", "crossing first"}[s]
}

// KeyMap are the list's bindings.
type KeyMap struct {
	Open, Sort key.Binding
	Table      table.KeyMap
}

// DefaultKeyMap returns the list's bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Open:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Sort:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Table: table.DefaultKeyMap(),
	}
}

// Model is the list of couplings.
type Model struct {
	plan   *graph.Plan
	table  table.Model
	filter string
	sort   Sort
	keys   KeyMap
}

// New returns an empty list; SetPlan fills it.
func New() *Model {
	cols := []table.Column{
		{Title: "KIND", Width: 8},
		{Title: "RESOURCE (× crosses pods)", Flex: true},
		{Title: "SIDES", Width: 20},
		{Title: "DISTANCE", Width: 9, MinTotal: 100},
		{Title: "BYTES", Width: 9, Right: true},
		{Title: "OPS", Width: 6, Right: true},
	}
	return &Model{table: table.New(cols, true), keys: DefaultKeyMap()}
}

// Title names the view in the tab bar.
func (m *Model) Title() string { return "Couplings" }

// SetPlan shows current.
func (m *Model) SetPlan(_, current *graph.Plan) {
	m.plan = current
	m.rebuild()
}

// SetFilter keeps couplings whose kind, resource, sides or distance
// contain q; "crosses" and "hidden" match the couplings that are.
func (m *Model) SetFilter(q string) {
	m.filter = q
	m.rebuild()
}

// Filter returns the current filter.
func (m *Model) Filter() string { return m.filter }

// SortOrder returns the current order.
func (m *Model) SortOrder() Sort { return m.sort }

// Selected returns the key of the coupling under the cursor.
func (m *Model) Selected() string {
	r, _ := m.table.Selected()
	return r.Key
}

// Select puts the cursor on the coupling with this key.
func (m *Model) Select(key string) bool { return m.table.Select(key) }

// SetSize gives the view its area.
func (m *Model) SetSize(width, height int) { m.table.SetSize(width, height) }

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Update handles open and sort; navigation goes to the table.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyMsg); ok {
		switch {
		case key.Matches(k, m.keys.Open):
			if sel := m.Selected(); sel != "" {
				return m, intent.Send(intent.OpenCoupling{Key: sel})
			}
			return m, nil
		case key.Matches(k, m.keys.Sort):
			m.sort = (m.sort + 1) % 4
			m.rebuild()
			return m, intent.Send(intent.Notice{Text: "couplings sorted by " + m.sort.String()})
		}
	}
	m.table.Update(msg)
	return m, nil
}

// View draws the list.
func (m *Model) View() string { return m.table.View() }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Open, m.keys.Sort} }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.keys.Table.Help(), {m.keys.Open, m.keys.Sort}}
}

func (m *Model) rebuild() {
	if m.plan == nil {
		return
	}
	cs := append([]graph.Coupling(nil), m.plan.Couplings...)
	sort.SliceStable(cs, func(i, j int) bool { return less(m.sort, cs[i], cs[j]) })
	q := strings.ToLower(m.filter)
	var rows []table.Row
	for _, c := range cs {
		if q != "" && !strings.Contains(strings.ToLower(searchText(c)), q) {
			continue
		}
		rows = append(rows, row(c))
	}
	if len(rows) == 0 {
		rows = append(rows, table.Row{Kind: table.Note, Cells: []string{"", fmt.Sprintf("nothing matches %q", format.Clean(m.filter))}})
	}
	m.table.SetRows(rows)
}

func less(s Sort, a, b graph.Coupling) bool {
	switch s {
	case ByBytes:
		return a.Bytes > b.Bytes
	case ByCount:
		return a.Count > b.Count
	case CrossingFirst:
		return a.CrossesPods && !b.CrossesPods
	}
	return false
}

func searchText(c graph.Coupling) string {
	s := strings.Join([]string{string(c.Kind), c.Resource, facts.Sides(c), string(c.Distance)}, "\x00")
	if c.CrossesPods {
		s += "\x00crosses"
	}
	if c.Hidden {
		s += "\x00hidden"
	}
	return s + "\x00" + format.Clean(s)
}

func row(c graph.Coupling) table.Row {
	r := table.Row{Key: intent.CouplingKey(c), KeepEnd: true, Cells: []string{
		string(c.Kind), c.Resource, facts.Sides(c), string(c.Distance), format.Bytes(c.Bytes), format.Count(c.Count)}}
	if c.CrossesPods {
		r.Cells[0] += " ×"
		r.Style = &theme.Crossing
	}
	return r
}
