// Package theme holds the styles every view of the terminal UI draws with,
// so that one place decides how a title, a selected row or an error looks.
//
// Colours are plain ANSI numbers, never adaptive: an adaptive colour makes
// lipgloss ask the terminal for its background, which races with bubbletea
// reading the keyboard. Every meaning carried by a style is also written in
// text (a "> " cursor, a "[crosses]" tag), so the UI reads the same without
// colour and the golden files record it.
package theme

import "github.com/charmbracelet/lipgloss"

var (
	// Title is the application title and view headings.
	Title = lipgloss.NewStyle().Bold(true)
	// Header is a table's column titles.
	Header = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
	// Section is a heading row inside a list.
	Section = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("4"))
	// Selected is the row under the cursor.
	Selected = lipgloss.NewStyle().Reverse(true)
	// Dim is secondary text.
	Dim = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	// TabActive and Tab draw the tab bar.
	TabActive = lipgloss.NewStyle().Bold(true).Reverse(true)
	Tab       = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	// Error is a refused edit or a failed save.
	Error = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("1"))
	// OK is a successful edit or save.
	OK = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	// High and Info are warning severities.
	High = lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
	Info = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
	// Crossing marks a coupling that crosses pods.
	Crossing = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
	// Key and KeyDesc draw the help bar.
	Key     = lipgloss.NewStyle().Bold(true)
	KeyDesc = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	// Box frames a dialog.
	Box = lipgloss.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1)
)

// Severity returns the style for a warning severity.
func Severity(s string) lipgloss.Style {
	if s == "high" {
		return High
	}
	return Info
}
