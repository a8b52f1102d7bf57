// Package pager shows text that is longer than the screen, wrapped to the
// width and scrolled with the keyboard or the mouse wheel, for the detail
// views of the terminal UI. A filter keeps the paragraphs that contain a
// query, with the headings of their sections.
package pager

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/theme"
)

// Para is a paragraph: one logical line, wrapped to the width when drawn.
type Para struct {
	Text string
	// Indent starts every wrapped line after the first.
	Indent string
	// Heading starts a section: kept by a filter when its section matches.
	Heading bool
	// Style draws the paragraph; nil draws it plain (headings: theme.Section).
	Style *lipgloss.Style
}

// Text returns a plain paragraph.
func Text(s string) Para { return Para{Text: s, Indent: "    "} }

// Heading returns a section heading.
func Heading(s string) Para { return Para{Text: s, Heading: true} }

// Blank returns an empty line (dropped while filtering).
func Blank() Para { return Para{} }

// Styled returns a paragraph drawn with st.
func Styled(s string, st lipgloss.Style) Para { return Para{Text: s, Indent: "    ", Style: &st} }

// KeyMap are the pager's bindings.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
}

// DefaultKeyMap returns vi and arrow bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
	}
}

// Help returns the scrolling keys folded into three entries, for a help
// screen that must fit 80 columns.
func (k KeyMap) Help() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys(append(k.Up.Keys(), k.Down.Keys()...)...), key.WithHelp("↑↓/jk", "scroll")),
		key.NewBinding(key.WithKeys(append(k.PageUp.Keys(), k.PageDown.Keys()...)...), key.WithHelp("pgup/pgdn", "page")),
		key.NewBinding(key.WithKeys(append(k.Home.Keys(), k.End.Keys()...)...), key.WithHelp("g/G", "top/bottom")),
	}
}

// Model is a pager.
type Model struct {
	paras         []Para
	filter        string
	lines         []string // drawn, styled, each exactly width cells
	offset        int
	width, height int
	keys          KeyMap
}

// New returns an empty pager.
func New() Model { return Model{keys: DefaultKeyMap()} }

// KeyMap returns the pager's bindings, for the help bar.
func (m Model) KeyMap() KeyMap { return m.keys }

// SetSize sets the size in cells and rewraps.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(width, 0), max(height, 0)
	m.layout()
}

// SetContent replaces the text, keeping the scroll position when it can.
func (m *Model) SetContent(paras []Para) {
	m.paras = paras
	m.layout()
}

// SetFilter keeps only the paragraphs containing q (any case).
func (m *Model) SetFilter(q string) {
	if q != m.filter {
		m.offset = 0
	}
	m.filter = q
	m.layout()
}

// Lines returns the drawn lines, for tests.
func (m Model) Lines() []string { return m.lines }

// Offset returns the first line shown.
func (m Model) Offset() int { return m.offset }

// Update scrolls for navigation keys and the mouse wheel, and reports
// whether it used the message.
func (m *Model) Update(msg tea.Msg) bool {
	page := max(m.height-1, 1)
	delta := 0
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, m.keys.Up):
			delta = -1
		case key.Matches(msg, m.keys.Down):
			delta = 1
		case key.Matches(msg, m.keys.PageUp):
			delta = -page
		case key.Matches(msg, m.keys.PageDown):
			delta = page
		case key.Matches(msg, m.keys.Home):
			delta = -len(m.lines)
		case key.Matches(msg, m.keys.End):
			delta = len(m.lines)
		default:
			return false
		}
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			delta = -3
		case tea.MouseButtonWheelDown:
			delta = 3
		default:
			return false
		}
	default:
		return false
	}
	m.offset = min(max(m.offset+delta, 0), m.maxOffset())
	return true
}

func (m Model) maxOffset() int { return max(len(m.lines)-m.height, 0) }

// layout wraps the visible paragraphs into lines.
func (m *Model) layout() {
	m.lines = m.lines[:0]
	if m.width <= 0 {
		return
	}
	for _, p := range m.visible() {
		st := p.Style
		if st == nil && p.Heading {
			st = &theme.Section
		}
		for _, l := range format.Wrap(p.Text, m.width, p.Indent) {
			l = format.Pad(l, m.width, false)
			if st != nil {
				l = st.Render(l)
			}
			m.lines = append(m.lines, l)
		}
	}
	m.offset = min(m.offset, m.maxOffset())
}

// visible returns the paragraphs the filter keeps.
func (m Model) visible() []Para {
	q := strings.ToLower(m.filter)
	if q == "" {
		return m.paras
	}
	var out []Para
	var heading *Para
	for i := range m.paras {
		p := m.paras[i]
		switch {
		case p.Heading:
			heading = &m.paras[i]
			if strings.Contains(strings.ToLower(p.Text), q) {
				out = append(out, p)
				heading = nil
			}
		case p.Text != "" && strings.Contains(strings.ToLower(format.Clean(p.Text)), q):
			if heading != nil {
				out = append(out, *heading)
				heading = nil
			}
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		out = append(out, Styled(fmt.Sprintf("nothing matches %q", format.Clean(m.filter)), theme.Dim))
	}
	return out
}

// View draws exactly height lines; the last says how much is hidden below.
func (m Model) View() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	end := min(m.offset+m.height, len(m.lines))
	out := append([]string(nil), m.lines[m.offset:end]...)
	if hidden := len(m.lines) - end; hidden > 0 && len(out) > 1 {
		out[len(out)-1] = theme.Dim.Render(format.Pad(fmt.Sprintf("  ↓ %d more lines (j, pgdn)", hidden+1), m.width, false))
	}
	for len(out) < m.height {
		out = append(out, strings.Repeat(" ", m.width))
	}
	return strings.Join(out, "\n")
}
