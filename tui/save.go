package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report"
)

// savedMsg reports the end of a save.
type savedMsg struct {
	path string
	plan *graph.Plan
	err  error
}

func (m *Model) askSavePath() tea.Cmd {
	if m.saving {
		m.status = status{text: "a save is under way"}
		return nil
	}
	m.state = stateSave
	m.prompt.SetValue(m.savePath)
	m.prompt.CursorEnd()
	return m.prompt.Focus()
}

func (m *Model) saveKey(k tea.KeyMsg) tea.Cmd {
	switch k.Type {
	case tea.KeyEnter:
		path := strings.TrimSpace(m.prompt.Value())
		if path == "" {
			m.status = status{text: "give a file name to save the plan to", kind: statusError}
			return nil
		}
		m.state, m.saving = stateBrowse, true
		m.prompt.Blur()
		m.status = status{text: "saving to " + path + " …"}
		return savePlan(path, m.hist.Current())
	case tea.KeyEsc:
		m.state, m.quitAfterSave = stateBrowse, false
		m.prompt.Blur()
		m.status = status{text: "not saved"}
		return nil
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(k)
	return cmd
}

func (m *Model) saved(msg savedMsg) tea.Cmd {
	m.saving = false
	if msg.err != nil {
		m.quitAfterSave = false
		m.status = status{text: "not saved: " + msg.err.Error(), kind: statusError}
		return nil
	}
	m.hist.MarkSaved(msg.plan)
	m.savePath, m.savedTo = msg.path, msg.path
	m.status = status{text: fmt.Sprintf("saved to %s · use it with: decompose manifests --plan %s", msg.path, msg.path), kind: statusOK}
	if m.quitAfterSave {
		return tea.Quit
	}
	return nil
}

// savePlan writes p to path in the background. p is a history snapshot:
// nothing changes it after it is made, so reading it off the UI loop is
// safe.
func savePlan(path string, p *graph.Plan) tea.Cmd {
	return func() tea.Msg {
		return savedMsg{path: path, plan: p, err: writePlan(path, p)}
	}
}

// writePlan writes p as the JSON of analyze --json (report.JSON), beside
// its final name and renamed into place, so that a failed save never
// leaves half a plan. A leading ~/ means the home directory.
func writePlan(path string, p *graph.Plan) error {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("save plan to %s: %w", path, err)
		}
		path = filepath.Join(home, rest)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".decompose-plan-*")
	if err != nil {
		return fmt.Errorf("save plan to %s: %w (is the directory there and writable?)", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := report.JSON(tmp, p); err != nil {
		tmp.Close()
		return fmt.Errorf("save plan to %s: encode: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save plan to %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("save plan to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save plan to %s: %w", path, err)
	}
	return nil
}
