package static

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options say what to analyze.
type Options struct {
	// Dir is the directory the patterns are relative to (a module
	// directory); "" is the current directory. Positions in the result
	// are relative to it.
	Dir string
	// Patterns are go/packages patterns; none means "./...".
	Patterns []string
}

// Result is what a scan found: sites per binary and the couplings they
// predict. Its JSON form is the --json contract of decompose static.
type Result struct {
	// Packages counts the packages loaded (dependencies included).
	Packages int `json:"packages"`
	// Reach says how sites were assigned to binaries: "rta", the
	// functions reachable from the binary's main and init functions
	// (rapid type analysis over the whole program).
	Reach     string     `json:"reach"`
	Binaries  []Binary   `json:"binaries"`
	Sites     []Site     `json:"sites"`
	Couplings []Coupling `json:"couplings"`
	// Notes say what the scan could not see: packages with errors, and
	// programs under the patterns that are not Go.
	Notes []string `json:"notes"`
	// Elapsed is the wall time of the scan (not in the JSON: it would
	// make the output differ between runs).
	Elapsed time.Duration `json:"-"`
}

// Binary is one main package.
type Binary struct {
	// Name is the binary's name: the last element of its package path
	// (more elements when two binaries would share one).
	Name    string `json:"name"`
	Package string `json:"package"`
	// Reachable counts the functions rapid type analysis reached: the main
	// module's, and the dependencies' functions they call (whose own
	// callees are not followed: dependencies are loaded without code).
	Reachable int `json:"reachableFunctions"`
	Sites     int `json:"sites"`
	Dynamic   int `json:"dynamicSites"`
	// Expects lists the signals the binary handles (signal.Notify; "all"
	// when it asks for every signal), Env the environment variables it
	// reads: what its container spec must keep.
	Expects []string `json:"expects"`
	Env     []string `json:"env"`
}

// Site is one call in a binary's code that touches a shared resource.
type Site struct {
	Binary   string `json:"binary"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Pos      string `json:"pos"` // file:line, relative to Options.Dir
	// Kind is file, dir, fifo, shm, tcp, udp, unix, net (network not
	// known), exec, signal or env.
	Kind string `json:"kind"`
	// Op is what the call does: read, write, create, append, readwrite,
	// open (flags not known), remove, rename, link, mkdir, list, mkfifo,
	// mmap, listen, dial, send, exec, notify, kill, getenv.
	Op      string `json:"op"`
	Call    string `json:"call"`
	Network string `json:"network,omitempty"`
	// Expr is the source text of the resource argument(s).
	Expr      string     `json:"expr,omitempty"`
	Resources []Resource `json:"resources"`

	pos position
}

// Resource is one value a site's resource argument may have.
type Resource struct {
	// Value is the resource: a path, an address, a signal, a program, an
	// environment variable; dynamic parts are shown as {expression}.
	Value   string `json:"value"`
	Dynamic bool   `json:"dynamic,omitempty"`
	// Pattern is a glob (* for each dynamic part) for matching runtime
	// evidence, when the value has literal text.
	Pattern string `json:"pattern,omitempty"`
	// Keys name the settings the dynamic parts come from
	// ("shopconf.Config[app_socket]", "env:HOME").
	Keys []string `json:"keys,omitempty"`
	// Flags name the flags whose defaults the value holds.
	Flags []string `json:"flags,omitempty"`
	// Settings say which configuration texts of the source tree gave
	// parts of the value, for a value read from a configuration key.
	Settings []ConfigValue `json:"settings,omitempty"`

	v Value
}

// Analyze loads the packages, finds every binary's sites and predicts
// the couplings between binaries.
func Analyze(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	p, err := load(ctx, opts)
	if err != nil {
		return nil, err
	}
	res := &Result{Packages: p.loaded, Reach: "rta", Notes: p.notes}
	if len(p.mains) == 0 {
		return nil, fmt.Errorf("no main package among %s: static reports sites per binary; pass the module root (./...) or the cmd directories", strings.Join(p.patterns, " "))
	}
	binaries, sites, err := p.scanAll(ctx)
	if err != nil {
		return nil, err
	}
	p.applyConfig(sites)
	notes, pipes := p.applyLaunches(sites, binaries)
	res.Notes = append(res.Notes, notes...)
	for i := range binaries {
		binaries[i].count(sitesOf(sites, binaries[i].Name))
	}
	res.Binaries, res.Sites = binaries, sites
	sortSites(res.Sites)
	res.Couplings = append(predict(res.Sites), pipes...)
	sortCouplings(res.Couplings)
	res.Notes = append(res.Notes, scriptNotes(p.dir, p.patterns)...)
	sort.Strings(res.Notes)
	res.Elapsed = time.Since(start)
	return res, nil
}

// scanAll scans the binaries in parallel, one per processor: each has its
// own call graph, index and memo, so they share nothing mutable but the
// source-text cache.
func (p *program) scanAll(ctx context.Context) ([]Binary, []Site, error) {
	binaries := make([]Binary, len(p.mains))
	perBinary := make([][]Site, len(p.mains))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.GOMAXPROCS(0), len(p.mains)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				binaries[i], perBinary[i] = p.scanBinary(p.mains[i])
			}
		}()
	}
	for i := range p.mains {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("scan: %w", err)
	}
	var sites []Site
	for _, s := range perBinary {
		sites = append(sites, s...)
	}
	return binaries, sites, nil
}

func sitesOf(sites []Site, binary string) []Site {
	var out []Site
	for _, s := range sites {
		if s.Binary == binary {
			out = append(out, s)
		}
	}
	return out
}

func sortSites(s []Site) {
	sort.Slice(s, func(i, j int) bool {
		a, b := s[i], s[j]
		if a.Binary != b.Binary {
			return a.Binary < b.Binary
		}
		if a.pos.file != b.pos.file {
			return a.pos.file < b.pos.file
		}
		if a.pos.line != b.pos.line {
			return a.pos.line < b.pos.line
		}
		if a.pos.col != b.pos.col {
			return a.pos.col < b.pos.col
		}
		return a.Call < b.Call
	})
}
