// Package picker asks the person to choose one of a few options, such as
// the pod a component should move to, in a small framed list.
package picker

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/theme"
)

// Option is one choice: Label is shown, Value is returned.
type Option struct {
	Value string
	Label string
}

// Chosen is sent when the person picks an option.
type Chosen struct{ Value string }

// Cancelled is sent when the person closes the picker without choosing.
type Cancelled struct{}

// KeyMap are the picker's bindings.
type KeyMap struct {
	Up, Down, Choose, Cancel key.Binding
}

// DefaultKeyMap returns the picker's bindings.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Choose: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		Cancel: key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "cancel")),
	}
}

// Model is a picker.
type Model struct {
	title         string
	opts          []Option
	cursor        int
	width, height int
	keys          KeyMap
}

// New returns a picker with the cursor on the first option.
func New(title string, opts []Option) Model {
	return Model{title: title, opts: opts, keys: DefaultKeyMap()}
}

// Title returns the question the picker asks.
func (m Model) Title() string { return m.title }

// Options returns the choices.
func (m Model) Options() []Option { return m.opts }

// Cursor returns the index of the highlighted option.
func (m Model) Cursor() int { return m.cursor }

// SetSize sets the area the picker is centred in.
func (m *Model) SetSize(width, height int) { m.width, m.height = width, height }

// ShortHelp implements help.KeyMap.
func (m Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Up, m.keys.Down, m.keys.Choose, m.keys.Cancel}
}

// FullHelp implements help.KeyMap.
func (m Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// Init implements tea.Model.
func (m Model) Init() tea.Cmd { return nil }

// Update moves the cursor and answers Chosen or Cancelled.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case key.Matches(k, m.keys.Down):
		m.cursor = min(m.cursor+1, len(m.opts)-1)
	case key.Matches(k, m.keys.Choose) && len(m.opts) > 0:
		v := m.opts[m.cursor].Value
		return m, func() tea.Msg { return Chosen{Value: v} }
	case key.Matches(k, m.keys.Cancel):
		return m, func() tea.Msg { return Cancelled{} }
	}
	return m, nil
}

// View draws the framed list centred in the area given to SetSize.
func (m Model) View() string {
	inner := max(min(m.width-4, 60), 10)
	lines := []string{theme.Title.Render(format.Pad(m.title, inner, false)), ""}
	room := max(m.height-5, 1)
	first := max(0, m.cursor-room+1)
	for i := first; i < len(m.opts) && i < first+room; i++ {
		text := "  " + m.opts[i].Label
		if i == m.cursor {
			text = "> " + m.opts[i].Label
		}
		text = format.Pad(text, inner, false)
		if i == m.cursor {
			text = theme.Selected.Render(text)
		}
		lines = append(lines, text)
	}
	box := theme.Box.Render(strings.Join(lines, "\n"))
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, box)
}
