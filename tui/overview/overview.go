// Package overview is the first screen of the terminal UI: the proposed
// pods with their components, how many couplings stay inside each and how
// many cross, the quality figures and the warnings. Edits start here: move
// a component, merge two pods, split components out.
package overview

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

// Sort orders pods, and components inside each pod.
type Sort int

// The sort orders, cycled by the sort key.
const (
	ByName Sort = iota
	ByBytes
	ByCount
)

func (s Sort) String() string { return [...]string{"name", "bytes", "operations"}[s] }

// KeyMap are the overview's bindings.
type KeyMap struct {
	Open, Move, NewPod, Merge, Mark, Split, Sort key.Binding
	Table                                        table.KeyMap
}

// DefaultKeyMap returns the overview's bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Open:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Move:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "move")),
		NewPod: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new pod")),
		Merge:  key.NewBinding(key.WithKeys("M"), key.WithHelp("M", "merge")),
		Mark:   key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		Split:  key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "split marked")),
		Sort:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Table:  table.DefaultKeyMap(),
	}
}

// Model is the overview.
type Model struct {
	original, plan *graph.Plan
	table          table.Model
	filter         string
	sort           Sort
	marks          map[string]bool
	width, height  int
	keys           KeyMap
}

// New returns an empty overview; SetPlan fills it.
func New() *Model {
	cols := []table.Column{
		{Title: "POD / COMPONENT", Flex: true},
		{Title: "LISTENS / SERVICES", Width: 34, MinTotal: 110},
		{Title: "KIND", Width: 11},
		{Title: "IN", Width: 3, Right: true},
		{Title: "CROSS", Width: 5, Right: true},
		{Title: "BYTES", Width: 9, Right: true},
		{Title: "OPS", Width: 6, Right: true},
	}
	return &Model{table: table.New(cols, true), marks: map[string]bool{}, keys: DefaultKeyMap()}
}

// Title names the view in the tab bar.
func (m *Model) Title() string { return "Overview" }

// SetPlan shows current; original is the plan as loaded, for deltas.
// Marks are dropped when the plan changes.
func (m *Model) SetPlan(original, current *graph.Plan) {
	if current != m.plan {
		m.marks = map[string]bool{}
	}
	m.original, m.plan = original, current
	m.rebuild()
}

// SetFilter keeps pods and components whose name, program or listeners
// contain q.
func (m *Model) SetFilter(q string) {
	m.filter = q
	m.rebuild()
}

// Filter returns the current filter.
func (m *Model) Filter() string { return m.filter }

// SortOrder returns the current sort order.
func (m *Model) SortOrder() Sort { return m.sort }

// Selected returns "pod" or "component" and the name under the cursor.
func (m *Model) Selected() (kind, name string) {
	r, ok := m.table.Selected()
	if !ok {
		return "", ""
	}
	kind, name, _ = strings.Cut(r.Key, ":")
	return kind, name
}

// Select puts the cursor on a component ("component") or pod ("pod").
func (m *Model) Select(kind, name string) bool { return m.table.Select(kind + ":" + name) }

// Marked returns the marked components, sorted.
func (m *Model) Marked() []string {
	out := make([]string, 0, len(m.marks))
	for n := range m.marks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// SetSize gives the view its area.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.table.SetSize(width, max(height-m.footerHeight(), 1))
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Update handles the overview's keys; navigation goes to the table.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		m.table.Update(msg)
		return m, nil
	}
	kind, name := m.Selected()
	switch {
	case key.Matches(k, m.keys.Sort):
		m.sort = (m.sort + 1) % 3
		m.rebuild()
		return m, intent.Send(intent.Notice{Text: "sorted by " + m.sort.String()})
	case key.Matches(k, m.keys.Mark):
		return m, m.toggleMark(kind, name)
	case key.Matches(k, m.keys.Split):
		return m, m.split(kind, name)
	case key.Matches(k, m.keys.Merge) && name != "":
		if kind == "component" {
			name = facts.PodOf(m.plan)[name]
		}
		return m, intent.Send(intent.Merge{Pod: name})
	case kind == "pod" && key.Matches(k, m.keys.Open):
		return m, intent.Send(intent.OpenPod{Name: name})
	case kind == "pod" && key.Matches(k, m.keys.Move, m.keys.NewPod):
		return m, intent.Send(intent.Notice{Text: "put the cursor on a component to move it (M merges another pod into this one)"})
	case kind == "component" && key.Matches(k, m.keys.Open):
		return m, intent.Send(intent.OpenComponent{Name: name})
	case kind == "component" && key.Matches(k, m.keys.Move):
		return m, intent.Send(intent.Move{Component: name})
	case kind == "component" && key.Matches(k, m.keys.NewPod):
		return m, intent.Send(intent.MoveToNewPod{Component: name})
	}
	m.table.Update(msg)
	return m, nil
}

func (m *Model) toggleMark(kind, name string) tea.Cmd {
	if kind != "component" {
		return intent.Send(intent.Notice{Text: "marks are for components: mark several, then S splits them into a new pod"})
	}
	if m.marks[name] {
		delete(m.marks, name)
	} else {
		m.marks[name] = true
	}
	m.rebuild()
	m.table.Update(tea.KeyMsg{Type: tea.KeyDown})
	return nil
}

func (m *Model) split(kind, name string) tea.Cmd {
	comps := m.Marked()
	if len(comps) == 0 && kind == "component" {
		comps = []string{name}
	}
	if len(comps) == 0 {
		return intent.Send(intent.Notice{Text: "mark components with space, then S splits them into a new pod"})
	}
	return intent.Send(intent.Split{Components: comps})
}

// View draws the table and, below it, quality and warnings.
func (m *Model) View() string {
	if m.plan == nil {
		return ""
	}
	return m.table.View() + "\n" + strings.Join(m.footer(), "\n")
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Open, m.keys.Move, m.keys.NewPod}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		m.keys.Table.Help(),
		{m.keys.Open, m.keys.Sort},
		{m.keys.Move, m.keys.NewPod, m.keys.Merge, m.keys.Mark, m.keys.Split},
	}
}

// footerHeight is the lines under the table: quality (two lines at most),
// a warnings line and as many warnings as fit in a quarter of the view.
func (m *Model) footerHeight() int {
	if m.plan == nil {
		return 2
	}
	return len(m.quality()) + 1 + m.warningLines()
}

func (m *Model) warningLines() int {
	return min(len(m.plan.Warnings), max(m.height/4-2, 0), 4)
}

func (m *Model) quality() []string {
	lines := format.Wrap(qualityLine(m.original, m.plan), m.width, "        ")
	if len(lines) > 2 {
		lines = []string{lines[0], format.Fit(strings.Join(lines[1:], ""), m.width)}
	}
	return lines
}

func (m *Model) footer() []string {
	var lines []string
	for _, l := range m.quality() {
		lines = append(lines, format.Pad(l, m.width, false))
	}
	high := 0
	for _, w := range m.plan.Warnings {
		if w.Severity == "high" {
			high++
		}
	}
	head := fmt.Sprintf("WARNINGS %d high, %d info", high, len(m.plan.Warnings)-high)
	if len(m.plan.Warnings) > 0 {
		head += " (tab 3 lists them)"
	}
	lines = append(lines, theme.Section.Render(format.Pad(head, m.width, false)))
	for _, w := range sortedWarnings(m.plan.Warnings)[:m.warningLines()] {
		lines = append(lines, theme.Severity(w.Severity).Render(format.Pad(" "+w.Severity+" "+w.Message, m.width, false)))
	}
	return lines
}

// qualityLine sums up the cut, with changes since the loaded plan.
func qualityLine(o, p *graph.Plan) string {
	q, oq := p.Quality, o.Quality
	s := fmt.Sprintf("QUALITY %d/%d cross%s (%s of %s)", q.CouplingsCut, q.Couplings, delta(oq.CouplingsCut, q.CouplingsCut),
		format.Bytes(q.BytesCut), format.Bytes(q.Bytes))
	s += fmt.Sprintf(" · modularity %.2f", q.Modularity)
	if q.Modularity != oq.Modularity {
		s += fmt.Sprintf(" (was %.2f)", oq.Modularity)
	}
	return s + fmt.Sprintf(" · %d hidden crossing%s", q.HiddenCrossing, delta(oq.HiddenCrossing, q.HiddenCrossing))
}

func delta(was, now int) string {
	if was == now {
		return ""
	}
	return fmt.Sprintf(" (%+d)", now-was)
}

// sortedWarnings puts high-severity warnings first, keeping plan order.
func sortedWarnings(ws []graph.Warning) []graph.Warning {
	out := append([]graph.Warning(nil), ws...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity == "high" && out[j].Severity != "high" })
	return out
}
