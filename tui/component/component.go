// Package component is the terminal UI's page about one component: what it
// is and where it runs, its processes (pid, user, argv, lifetime), its
// listeners and data directories, and every file, directory, socket or
// signal it shares with others, with direction and bytes. Enter on a shared
// resource opens its coupling; the component can be moved from here.
package component

import (
	"fmt"
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

// Sort orders the shared resources.
type Sort int

// The sort orders, cycled by the sort key.
const (
	ByPlan Sort = iota
	ByBytes
	ByCount
)

func (s Sort) String() string { return [...]string{"plan order", "bytes", "operations"}[s] }

// KeyMap are the component page's bindings.
type KeyMap struct {
	Open, Move, NewPod, Sort key.Binding
	Table                    table.KeyMap
}

// DefaultKeyMap returns the component page's bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Open:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Move:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "move")),
		NewPod: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new pod")),
		Sort:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Table:  table.DefaultKeyMap(),
	}
}

// headerLines is the height of the summary above the table.
const headerLines = 4

// Model is the page about one component.
type Model struct {
	name          string
	plan          *graph.Plan
	table         table.Model
	filter        string
	sort          Sort
	width, height int
	keys          KeyMap
}

// New returns the page for component name; SetPlan fills it.
func New(name string) *Model {
	cols := []table.Column{
		{Width: 8},
		{Width: 18},
		{Flex: true},
		{Width: 9, Right: true},
		{Width: 7, Right: true},
	}
	return &Model{name: name, table: table.New(cols, false), keys: DefaultKeyMap()}
}

// Title names the page in the breadcrumb.
func (m *Model) Title() string { return m.name }

// Name returns the component shown.
func (m *Model) Name() string { return m.name }

// SetPlan shows the component as it is in current.
func (m *Model) SetPlan(_, current *graph.Plan) {
	m.plan = current
	m.rebuild()
}

// SetFilter keeps the rows containing q.
func (m *Model) SetFilter(q string) {
	m.filter = q
	m.rebuild()
}

// Filter returns the current filter.
func (m *Model) Filter() string { return m.filter }

// SortOrder returns the order of the shared resources.
func (m *Model) SortOrder() Sort { return m.sort }

// Selected returns the key of the row under the cursor ("coupling:KEY",
// "process:PID", ...).
func (m *Model) Selected() string {
	r, _ := m.table.Selected()
	return r.Key
}

// Select puts the cursor on the row with this key.
func (m *Model) Select(key string) bool { return m.table.Select(key) }

// SetSize gives the page its area.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.table.SetSize(width, max(height-headerLines, 1))
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd { return nil }

// Update handles the page's keys; navigation goes to the table.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		msg.Y -= headerLines
		m.table.Update(msg)
		return m, nil
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Open):
			if k, ok := strings.CutPrefix(m.Selected(), "coupling:"); ok {
				return m, intent.Send(intent.OpenCoupling{Key: k})
			}
			return m, nil
		case key.Matches(msg, m.keys.Move):
			return m, intent.Send(intent.Move{Component: m.name})
		case key.Matches(msg, m.keys.NewPod):
			return m, intent.Send(intent.MoveToNewPod{Component: m.name})
		case key.Matches(msg, m.keys.Sort):
			m.sort = (m.sort + 1) % 3
			m.rebuild()
			return m, intent.Send(intent.Notice{Text: "shared resources sorted by " + m.sort.String()})
		}
		m.table.Update(msg)
	}
	return m, nil
}

// View draws the summary and the table.
func (m *Model) View() string {
	c, ok := facts.Component(m.plan, m.name)
	if !ok {
		return format.Pad(fmt.Sprintf("component %q is not in the plan", format.Clean(m.name)), m.width, false)
	}
	return strings.Join(m.header(c), "\n") + "\n" + m.table.View()
}

func (m *Model) header(c graph.Component) []string {
	pod := facts.PodOf(m.plan)[c.Name]
	workload := ""
	if p, ok := facts.Pod(m.plan, pod); ok {
		workload = " (" + p.Workload + ")"
	}
	first := fmt.Sprintf("%s  in pod %s%s  ·  %s", c.Name, pod, workload, facts.Traits(c))
	prog := "program " + c.Exe
	if c.Script != "" {
		prog += "  script " + c.Script
	}
	who := fmt.Sprintf("users %s  ·  hosts %s  ·  %s  ·  %d redacted secrets",
		strings.Join(c.Users, ", "), strings.Join(c.Hosts, ", "), format.Plural(c.Processes, "process", "processes"), c.Secrets)
	return []string{
		theme.Title.Render(format.Pad(first, m.width, false)),
		format.Pad(prog, m.width, false),
		format.Pad("command "+format.Join(c.Command, " "), m.width, false),
		theme.Dim.Render(format.Pad(who, m.width, false)),
	}
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
		{m.keys.Move, m.keys.NewPod},
	}
}
