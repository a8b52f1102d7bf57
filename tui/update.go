package tui

import (
	"errors"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/tui/history"
	"github.com/decompose-dev/decompose/tui/intent"
	"github.com/decompose-dev/decompose/tui/picker"
)

// Update routes a message by the model's state, then lays the views out
// again (the status and help lines change the room they get).
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.relayout()
	return m, cmd
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = msg.Width
		m.filter.Width = max(msg.Width-len(m.filter.Prompt)-1, 1)
		m.prompt.Width = max(msg.Width-len(m.prompt.Prompt)-1, 1)
		return nil
	case loadedMsg:
		return m.loaded(msg)
	case spinner.TickMsg:
		if m.state != stateLoading {
			return nil
		}
		var cmd tea.Cmd
		m.spinner, cmd = m.spinner.Update(msg)
		return cmd
	case savedMsg:
		return m.saved(msg)
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	case picker.Chosen, picker.Cancelled:
		return m.picked(msg)
	case intent.Notice:
		m.status = status{text: msg.Text}
		return nil
	case intent.OpenComponent, intent.OpenCoupling, intent.OpenPod:
		m.open(msg)
		return nil
	case intent.Move, intent.MoveToNewPod, intent.Merge, intent.Split:
		m.edit(msg)
		return nil
	}
	return nil
}

func (m *Model) loaded(msg loadedMsg) tea.Cmd {
	if msg.err == nil && msg.plan == nil {
		msg.err = errors.New("tui: loading gave no plan")
	}
	if msg.err != nil {
		m.state, m.err = stateFailed, msg.err
		return tea.Quit
	}
	m.hist = history.New(msg.plan)
	m.state = stateBrowse
	m.syncViews()
	return nil
}

// syncViews gives every view the current plan.
func (m *Model) syncViews() {
	orig, cur := m.hist.Original(), m.hist.Current()
	for _, v := range m.tabs {
		v.SetPlan(orig, cur)
	}
	for _, v := range m.stack {
		v.SetPlan(orig, cur)
	}
	m.diff.SetEdits(m.hist.Edits())
}

func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste && m.state != stateFilter && m.state != stateSave {
		return m.keys1by1(k)
	}
	if k.Type == tea.KeyCtrlC { // quits from anywhere, asking first about unsaved edits
		if m.hist == nil || m.state == stateConfirmQuit {
			return tea.Quit
		}
		return m.quit()
	}
	switch m.state {
	case stateLoading, stateFailed:
		if key.Matches(k, m.keys.Quit) {
			return tea.Quit
		}
		return nil
	case stateFilter:
		return m.filterKey(k)
	case stateSave:
		return m.saveKey(k)
	case statePick:
		var cmd tea.Cmd
		m.picker, cmd = m.picker.Update(k)
		return cmd
	case stateConfirmQuit:
		return m.confirmKey(k)
	}
	return m.browseKey(k)
}

// keys1by1 handles runes that arrived in one read (typed fast, or sent by
// tmux send-keys) as one key each, as a person meant them.
func (m *Model) keys1by1(k tea.KeyMsg) tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range k.Runes {
		cmds = append(cmds, m.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt}))
	}
	return tea.Sequence(cmds...)
}

func (m *Model) browseKey(k tea.KeyMsg) tea.Cmd {
	m.status = status{}
	switch {
	case key.Matches(k, m.keys.Quit):
		return m.quit()
	case key.Matches(k, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
	case key.Matches(k, m.keys.Filter):
		m.state = stateFilter
		m.filter.SetValue(m.active().Filter())
		m.filter.CursorEnd()
		return m.filter.Focus()
	case key.Matches(k, m.keys.NextTab):
		m.setTab((m.tab + 1) % len(m.tabs))
	case key.Matches(k, m.keys.PrevTab):
		m.setTab((m.tab + len(m.tabs) - 1) % len(m.tabs))
	case key.Matches(k, m.keys.Tabs...):
		m.setTab(int(k.Runes[0] - '1'))
	case key.Matches(k, m.keys.Back):
		m.back()
	case key.Matches(k, m.keys.Undo):
		m.undo()
	case key.Matches(k, m.keys.Redo):
		m.redo()
	case key.Matches(k, m.keys.Save):
		return m.askSavePath()
	default:
		return m.forward(k)
	}
	return nil
}

// forward gives a message to the active view.
func (m *Model) forward(msg tea.Msg) tea.Cmd {
	v := m.active()
	next, cmd := v.Update(msg)
	if nv, ok := next.(view); ok && nv != v {
		if n := len(m.stack); n > 0 {
			m.stack[n-1] = nv
		} else {
			m.tabs[m.tab] = nv
		}
	}
	return cmd
}

func (m *Model) setTab(i int) {
	if i < 0 || i >= len(m.tabs) {
		return
	}
	m.tab, m.stack = i, nil
}

// back closes the newest page, or clears the filter of a tab.
func (m *Model) back() {
	if n := len(m.stack); n > 0 {
		m.stack = m.stack[:n-1]
		return
	}
	if m.active().Filter() != "" {
		m.active().SetFilter("")
		m.status = status{text: "filter cleared"}
	}
}

func (m *Model) filterKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEnter:
		m.state = stateBrowse
		m.filter.Blur()
		return nil
	case tea.KeyEsc:
		m.state = stateBrowse
		m.filter.Blur()
		m.filter.SetValue("")
		m.active().SetFilter("")
		return nil
	}
	var cmd tea.Cmd
	m.filter, cmd = m.filter.Update(k)
	m.active().SetFilter(m.filter.Value())
	return cmd
}

func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if m.state != stateBrowse {
		return nil
	}
	if msg.Y == 1 && msg.Button == tea.MouseButtonLeft && msg.Action == tea.MouseActionPress && len(m.stack) == 0 {
		if i := m.tabAt(msg.X); i >= 0 {
			m.setTab(i)
		}
		return nil
	}
	msg.Y -= contentTop
	return m.forward(msg)
}
