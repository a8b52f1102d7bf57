// Package table is the scrolling list of rows in aligned columns that the
// views of the terminal UI are built from: it owns the cursor, scrolling,
// marks and drawing, never what the rows mean.
//
// Cells are cleaned and fitted (package format) before any style is applied,
// so a cell can neither drive the terminal nor push a line past the width.
package table

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/theme"
)

// Column describes one column. One column should be Flex: it takes the
// width the others leave.
type Column struct {
	Title string
	Width int
	Flex  bool
	// Right aligns numbers.
	Right bool
	// MinTotal hides the column when the table is narrower than this.
	MinTotal int
}

// Kind tells items, which the cursor visits, from headings and notes.
type Kind int

const (
	// Item is a selectable row.
	Item Kind = iota
	// Heading starts a section; its cells are drawn as column titles.
	Heading
	// Note is a line of text the cursor skips ("no couplings").
	Note
)

// Row is one line of the table. Key identifies it across SetRows calls, so
// that the cursor stays on the same thing when rows are rebuilt.
type Row struct {
	Key    string
	Cells  []string
	Kind   Kind
	Marked bool
	// KeepEnd cuts a too-wide flex cell at its start, not its end: for
	// paths, whose last part names the thing.
	KeepEnd bool
	// Style, if set, draws the row when it is not under the cursor.
	Style *lipgloss.Style
}

// KeyMap are the table's bindings.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
}

// DefaultKeyMap returns vi and arrow bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
	}
}

// Help returns the navigation keys folded into three entries, for a help
// screen that must fit 80 columns.
func (k KeyMap) Help() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys(append(k.Up.Keys(), k.Down.Keys()...)...), key.WithHelp("↑↓/jk", "move")),
		key.NewBinding(key.WithKeys(append(k.PageUp.Keys(), k.PageDown.Keys()...)...), key.WithHelp("pgup/pgdn", "page")),
		key.NewBinding(key.WithKeys(append(k.Home.Keys(), k.End.Keys()...)...), key.WithHelp("g/G", "top/bottom")),
	}
}

// Model is a table. The zero value is not usable: call New.
type Model struct {
	cols          []Column
	rows          []Row
	header        bool
	cursor        int
	offset        int
	width, height int
	keys          KeyMap
}

// New returns a table with these columns; header draws their titles on
// the first line.
func New(cols []Column, header bool) Model {
	return Model{cols: cols, header: header, keys: DefaultKeyMap(), cursor: -1}
}

// KeyMap returns the table's bindings, for the help bar.
func (m Model) KeyMap() KeyMap { return m.keys }

// SetSize sets the table's size in cells, header included.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(width, 0), max(height, 0)
	m.scroll()
}

// SetRows replaces the rows. The cursor stays on the row with the same key
// if there still is one, else near where it was.
func (m *Model) SetRows(rows []Row) {
	prev := ""
	if r, ok := m.Selected(); ok {
		prev = r.Key
	}
	old := m.cursor
	m.rows = rows
	m.cursor = -1
	for i, r := range rows {
		if r.Kind == Item && prev != "" && r.Key == prev {
			m.cursor = i
			break
		}
	}
	if m.cursor < 0 {
		m.cursor = m.nearestItem(max(old, 0), 1)
	}
	m.scroll()
}

// Rows returns the rows as last set.
func (m Model) Rows() []Row { return m.rows }

// Selected returns the row under the cursor.
func (m Model) Selected() (Row, bool) {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return Row{}, false
	}
	return m.rows[m.cursor], true
}

// Select puts the cursor on the item with this key and reports whether
// there is one.
func (m *Model) Select(key string) bool {
	for i, r := range m.rows {
		if r.Kind == Item && r.Key == key {
			m.cursor = i
			m.scroll()
			return true
		}
	}
	return false
}

// Update moves the cursor for navigation keys and the mouse wheel; a left
// click selects the row under the pointer (Y counted from the table's top
// line). It reports whether the message was used.
func (m *Model) Update(msg tea.Msg) bool {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	}
	return false
}

func (m *Model) key(msg tea.KeyMsg) bool {
	page := max(m.bodyHeight()-1, 1)
	switch {
	case key.Matches(msg, m.keys.Up):
		m.move(-1)
	case key.Matches(msg, m.keys.Down):
		m.move(1)
	case key.Matches(msg, m.keys.PageUp):
		m.move(-page)
	case key.Matches(msg, m.keys.PageDown):
		m.move(page)
	case key.Matches(msg, m.keys.Home):
		m.cursor = m.nearestItem(0, 1)
	case key.Matches(msg, m.keys.End):
		m.cursor = m.nearestItem(len(m.rows)-1, -1)
	default:
		return false
	}
	m.scroll()
	return true
}

func (m *Model) mouse(msg tea.MouseMsg) bool {
	switch {
	case msg.Button == tea.MouseButtonWheelUp:
		m.move(-1)
	case msg.Button == tea.MouseButtonWheelDown:
		m.move(1)
	case msg.Button == tea.MouseButtonLeft && msg.Action == tea.MouseActionPress:
		top := 0
		if m.header {
			top = 1
		}
		i := m.offset + msg.Y - top
		if msg.Y < top || i >= len(m.rows) || m.rows[i].Kind != Item {
			return false
		}
		m.cursor = i
	default:
		return false
	}
	m.scroll()
	return true
}

// move goes delta items up or down, skipping headings and notes.
func (m *Model) move(delta int) {
	if m.cursor < 0 {
		m.cursor = m.nearestItem(0, 1)
		return
	}
	step := 1
	if delta < 0 {
		step, delta = -1, -delta
	}
	for ; delta > 0; delta-- {
		next := m.nearestItem(m.cursor+step, step)
		if next < 0 || next == m.cursor {
			break
		}
		m.cursor = next
	}
}

// nearestItem returns the first item from i in direction step, else the
// first in the other direction, else -1.
func (m Model) nearestItem(i, step int) int {
	i = min(max(i, 0), len(m.rows)-1)
	for _, s := range []int{step, -step} {
		for j := i; j >= 0 && j < len(m.rows); j += s {
			if m.rows[j].Kind == Item {
				return j
			}
		}
	}
	return -1
}

func (m Model) bodyHeight() int {
	if m.header {
		return max(m.height-1, 0)
	}
	return m.height
}

// scroll keeps the cursor visible, with the heading above it when there
// is room.
func (m *Model) scroll() {
	body := m.bodyHeight()
	m.offset = min(m.offset, max(len(m.rows)-body, 0))
	if m.cursor < 0 || body == 0 {
		return
	}
	top := m.cursor
	if top > 0 && m.rows[top-1].Kind == Heading {
		top--
	}
	if top < m.offset {
		m.offset = top
	}
	if m.cursor >= m.offset+body {
		m.offset = m.cursor - body + 1
	}
}

// View draws exactly height lines of exactly width cells.
func (m Model) View() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	widths := m.widths()
	lines := make([]string, 0, m.height)
	if m.header {
		titles := make([]string, len(m.cols))
		for i, c := range m.cols {
			titles[i] = c.Title
		}
		lines = append(lines, theme.Header.Render(m.line(widths, "  ", titles)))
	}
	end := min(m.offset+m.bodyHeight(), len(m.rows))
	for i := m.offset; i < end; i++ {
		lines = append(lines, m.renderRow(i, widths))
	}
	if len(m.rows) == 0 && len(lines) < m.height {
		lines = append(lines, theme.Dim.Render(format.Pad("  (nothing to show)", m.width, false)))
	}
	for len(lines) < m.height {
		lines = append(lines, strings.Repeat(" ", m.width))
	}
	return strings.Join(lines, "\n")
}

func (m Model) renderRow(i int, widths []int) string {
	r := m.rows[i]
	prefix := "  "
	switch {
	case i == m.cursor && r.Marked:
		prefix = ">*"
	case i == m.cursor:
		prefix = "> "
	case r.Marked:
		prefix = " *"
	}
	cells := r.Cells
	if r.KeepEnd {
		cells = m.keepEnd(widths, cells)
	}
	text := m.line(widths, prefix, cells)
	switch {
	case r.Kind == Heading:
		return theme.Section.Render(text)
	case r.Kind == Note:
		return theme.Dim.Render(text)
	case i == m.cursor:
		return theme.Selected.Render(text)
	case r.Style != nil:
		return r.Style.Render(text)
	}
	return text
}

// line lays cells out in the visible columns: plain text, exactly width.
func (m Model) line(widths []int, prefix string, cells []string) string {
	var b strings.Builder
	b.WriteString(prefix)
	first := true
	for i, c := range m.cols {
		if widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		cell := ""
		if i < len(cells) {
			cell = cells[i]
		}
		b.WriteString(format.Pad(cell, widths[i], c.Right))
	}
	return format.Pad(b.String(), m.width, false)
}

// keepEnd cuts the flex cell from the left to its column's width.
func (m Model) keepEnd(widths []int, cells []string) []string {
	out := append([]string(nil), cells...)
	for i, c := range m.cols {
		if c.Flex && i < len(out) && widths[i] > 0 {
			s := format.Clean(out[i])
			if w := ansi.StringWidth(s); w > widths[i] {
				out[i] = format.Ellipsis + ansi.TruncateLeft(s, w-widths[i]+1, "")
			}
		}
	}
	return out
}

// widths returns each column's width, 0 for hidden columns.
func (m Model) widths() []int {
	w := make([]int, len(m.cols))
	used, flex, shown := 2, -1, 0
	for i, c := range m.cols {
		if c.MinTotal > m.width {
			continue
		}
		shown++
		if c.Flex && flex < 0 {
			flex = i
			continue
		}
		w[i] = c.Width
		used += c.Width
	}
	used += max(shown-1, 0)
	if flex >= 0 {
		w[flex] = max(m.width-used, 4)
	}
	return w
}
