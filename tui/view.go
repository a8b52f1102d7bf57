package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/decompose-dev/decompose/tui/format"
	"github.com/decompose-dev/decompose/tui/theme"
)

// contentTop is the first line of the views, under the title and tab bars.
const contentTop = 2

// The smallest window the UI draws in.
const minWidth, minHeight = 40, 10

// View draws the whole screen: exactly height lines of width cells.
func (m *Model) View() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		return m.fill([]string{format.Fit(fmt.Sprintf("decompose needs a window of at least %dx%d (this one is %dx%d)", minWidth, minHeight, m.width, m.height), m.width)})
	}
	switch m.state {
	case stateLoading:
		return m.fill([]string{"", format.Fit(fmt.Sprintf("  %s loading %s …", m.spinner.View(), m.opts.Source), m.width), "", theme.Dim.Render("  q quits")})
	case stateFailed:
		return m.fill([]string{theme.Error.Render(format.Fit("decompose: "+m.err.Error(), m.width))})
	}
	content := m.active().View()
	if m.state == statePick {
		content = m.picker.View()
	}
	lines := []string{m.titleBar(), m.tabBar()}
	lines = append(lines, m.fit(strings.Split(content, "\n"), m.sized[1])...)
	lines = append(lines, m.bottom()...)
	return m.fill(lines)
}

// fill pads or cuts lines to the window's height, and cuts each to the
// width: a last guard, since views already fit their lines (cutting is
// escape-aware, so styled lines keep their colours).
func (m *Model) fill(lines []string) string {
	for len(lines) < m.height {
		lines = append(lines, "")
	}
	lines = lines[:m.height]
	for i, l := range lines {
		if ansi.StringWidth(l) > m.width {
			lines[i] = ansi.Truncate(l, m.width, "")
		}
	}
	return strings.Join(lines, "\n")
}

// fit returns exactly n lines; lines are already cut to the width.
func (m *Model) fit(lines []string, n int) []string {
	for len(lines) < n {
		lines = append(lines, "")
	}
	return lines[:n]
}

func (m *Model) titleBar() string {
	p := m.hist.Current()
	left := fmt.Sprintf("decompose · %s · %s, %s", m.opts.Source,
		format.Plural(len(p.Pods), "pod", "pods"), format.Plural(len(p.Components), "component", "components"))
	if edits := len(m.hist.Edits()); edits > 0 {
		left += " · " + format.Plural(edits, "edit", "edits")
	}
	switch {
	case m.Dirty():
		left += " · unsaved"
	case m.savedTo != "":
		left += " · saved"
	}
	return theme.Title.Render(format.Pad(left, m.width, false))
}

// tabLabels are the tab bar's entries, one cell of padding each side.
func (m *Model) tabLabels() []string {
	out := make([]string, len(m.tabs))
	for i, v := range m.tabs {
		out[i] = fmt.Sprintf(" %d %s ", i+1, v.Title())
	}
	return out
}

// tabAt returns the tab drawn at column x, or -1.
func (m *Model) tabAt(x int) int {
	pos := 0
	for i, l := range m.tabLabels() {
		w := ansi.StringWidth(l)
		if x >= pos && x < pos+w {
			return i
		}
		pos += w + 1
	}
	return -1
}

// tabBar draws the tabs, or the path to the open page.
func (m *Model) tabBar() string {
	if len(m.stack) > 0 {
		parts := []string{m.tabs[m.tab].Title()}
		for _, v := range m.stack {
			parts = append(parts, v.Title())
		}
		return theme.Section.Render(format.Pad(strings.Join(parts, " › ")+"   (esc: back)", m.width, false))
	}
	var cells []string
	for i, l := range m.tabLabels() {
		st := theme.Tab
		if i == m.tab {
			st = theme.TabActive
			l = "[" + strings.TrimSpace(l) + "]"
		}
		cells = append(cells, st.Render(format.Fit(l, m.width)))
	}
	bar := strings.Join(cells, " ")
	if ansi.StringWidth(bar) > m.width {
		bar = ansi.Truncate(bar, m.width, format.Ellipsis)
	}
	return bar
}

// bottom is the status line(s) and the help bar.
func (m *Model) bottom() []string {
	return append(m.statusLines(), m.helpLines()...)
}

// helpLines draws the short help, or the full help with its columns
// wrapped into as many rows of columns as the width needs.
func (m *Model) helpLines() []string {
	k := m.helpKeys()
	if !m.help.ShowAll {
		return []string{m.help.ShortHelpView(k.ShortHelp())}
	}
	h := m.help
	h.Width = 0 // measure rows of columns whole; fill cuts what still overflows
	var out []string
	var row [][]key.Binding
	for _, g := range k.FullHelp() {
		if len(row) > 0 && lipgloss.Width(h.FullHelpView(append(row, g))) > m.width {
			out = append(out, strings.Split(h.FullHelpView(row), "\n")...)
			row = nil
		}
		row = append(row, g)
	}
	return append(out, strings.Split(h.FullHelpView(row), "\n")...)
}

func (m *Model) helpKeys() help.KeyMap {
	switch m.state {
	case statePick:
		return m.picker
	case stateFilter, stateSave:
		return inputKeys{m.keys}
	case stateConfirmQuit:
		return confirmKeys{}
	}
	return helpKeys{view: m.active(), global: m.keys}
}

// statusLines is one line, or up to three when a message (a refused move's
// reason) needs them.
func (m *Model) statusLines() []string {
	switch m.state {
	case stateFilter:
		return []string{m.filter.View()}
	case stateSave:
		return []string{m.prompt.View()}
	case stateConfirmQuit:
		text := "the plan shown is not saved: y quits without saving, w saves first, n stays"
		return []string{theme.Error.Render(format.Fit(text, m.width))}
	}
	st := m.status
	if st.text == "" {
		if f := m.active().Filter(); f != "" {
			st = status{text: fmt.Sprintf("filter %q · / edits it · esc clears it", f)}
		}
	}
	style := map[statusKind]lipgloss.Style{statusInfo: theme.Dim, statusOK: theme.OK, statusError: theme.Error}[st.kind]
	wrapped := format.Wrap(st.text, m.width, "  ")
	if len(wrapped) > 3 {
		wrapped = append(wrapped[:2], format.Fit(strings.TrimSpace(strings.Join(wrapped[2:], " ")), m.width))
	}
	for i, l := range wrapped {
		wrapped[i] = style.Render(l)
	}
	return wrapped
}

// relayout gives the views the room left by the bars, the status and the
// help, when it changed.
func (m *Model) relayout() {
	if m.hist == nil || m.width == 0 {
		return
	}
	h := m.height - contentTop - len(m.bottom())
	size := [2]int{m.width, max(h, 1)}
	if size == m.sized {
		return
	}
	m.sized = size
	for _, v := range m.tabs {
		v.SetSize(size[0], size[1])
	}
	for _, v := range m.stack {
		v.SetSize(size[0], size[1])
	}
	m.picker.SetSize(size[0], size[1])
}
