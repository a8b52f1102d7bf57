package report

import (
	"encoding/json"
	"io"

	"github.com/decompose-dev/decompose/graph"
)

// JSON writes the plan in the contract of analyze --json, indented, with
// HTML-significant characters escaped so it can be embedded in a page.
func JSON(w io.Writer, p *graph.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}
