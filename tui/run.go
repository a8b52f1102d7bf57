package tui

import (
	"context"
	"errors"
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"
)

// Result is what a session left behind.
type Result struct {
	// SavedTo is the file the plan was last saved to, "" if never.
	SavedTo string
	// Unsaved is true when the person quit with edits not saved.
	Unsaved bool
}

// Run shows the UI on a terminal (in and out) until the person quits, in
// the alternate screen with mouse support. It returns Options.Load's error
// when loading failed.
func Run(ctx context.Context, opts Options, in io.Reader, out io.Writer) (Result, error) {
	prog := tea.NewProgram(New(opts), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out),
		tea.WithAltScreen(), tea.WithMouseCellMotion())
	final, err := prog.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return Result{}, fmt.Errorf("tui: %w", ctx.Err())
	}
	if err != nil {
		return Result{}, fmt.Errorf("tui: %w", err)
	}
	m, ok := final.(*Model)
	if !ok {
		return Result{}, errors.New("tui: the program ended without its model")
	}
	if m.Err() != nil {
		return Result{}, m.Err()
	}
	return Result{SavedTo: m.SavedTo(), Unsaved: m.Dirty()}, nil
}
