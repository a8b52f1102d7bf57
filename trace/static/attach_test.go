package static

import (
	"debug/buildinfo"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/decompose-dev/decompose/fixtures/recordings"
	"github.com/decompose-dev/decompose/fixtures/truth"
	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/trace"
)

// shopCode is, for every coupling of legacyshop's ground truth (kind and
// components), the call behind each side: "" for a side with no Go call
// (a shell script, or a pipe a shell pipeline sets up on stdio).
var shopCode = map[string]map[string]string{
	"config shop-app,shop-cache,shop-web": {"shop-app": "cmd/shop-app/main.go:94", "shop-cache": "cmd/shop-cache/main.go:85", "shop-web": "cmd/shop-web/main.go:93"},
	"dir rotate-logs.sh,shop-cache":       {"rotate-logs.sh": "", "shop-cache": "cmd/shop-cache/main.go:147"},
	"dir shop-app,shop-worker":            {"shop-app": "cmd/shop-app/main.go:186", "shop-worker": "cmd/shop-worker/main.go:64"},
	"fifo shop-app,shop-audit":            {"shop-app": "cmd/shop-app/main.go:313", "shop-audit": "cmd/shop-audit/main.go:50"},
	"file rotate-logs.sh,shop-cache":      {"rotate-logs.sh": "", "shop-cache": "cmd/shop-cache/main.go:62"},
	"file shop-app,shop-web":              {"shop-app": "cmd/shop-app/main.go:244", "shop-web": "cmd/shop-web/main.go:183"},
	"pipe shop-logger,shop-worker":        {"shop-logger": "", "shop-worker": ""},
	"shm shop-metrics,shop-web":           {"shop-metrics": "cmd/shop-metrics/main.go:70", "shop-web": "cmd/shop-web/main.go:174"},
	"signal rotate-logs.sh,shop-cache":    {"rotate-logs.sh": "", "shop-cache": "cmd/shop-cache/main.go:45"},
	"tcp shop-app,shop-cache":             {"shop-app": "cmd/shop-app/main.go:91", "shop-cache": "cmd/shop-cache/main.go:56"},
	"tcp shop-app,shop-db":                {"shop-app": "cmd/shop-app/main.go:91", "shop-db": "cmd/shop-db/main.go:60"},
	"tcp shop-db,shop-worker":             {"shop-db": "cmd/shop-db/main.go:60", "shop-worker": "cmd/shop-worker/main.go:45"},
	"udp shop-app,shop-metrics":           {"shop-app": "cmd/shop-app/main.go:171", "shop-metrics": "cmd/shop-metrics/main.go:42"},
	"unix shop-app,shop-web":              {"shop-app": "cmd/shop-app/main.go:57", "shop-web": "cmd/shop-web/main.go:68"},
	// Not in the ground truth as such: a real recording counts TCP per
	// server endpoint, so shop-db's two clients are one coupling.
	"tcp shop-app,shop-db,shop-worker": {"shop-app": "cmd/shop-app/main.go:91", "shop-db": "cmd/shop-db/main.go:60", "shop-worker": "cmd/shop-worker/main.go:45"},
}

// bundledPlan analyzes a bundled recording of legacyshop.
func bundledPlan(t *testing.T, recording []byte) *graph.Plan {
	t.Helper()
	path := filepath.Join(t.TempDir(), "legacyshop.trace")
	if err := os.WriteFile(path, recording, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := trace.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := graph.Analyze([]*trace.Trace{tr}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func couplingKey(kind graph.Kind, comps []string) string {
	c := append([]string(nil), comps...)
	sort.Strings(c)
	return string(kind) + " " + strings.Join(c, ",")
}

// TestAttachLegacyshop checks, on the trace synthesized from the ground
// truth (every coupling, fixed paths and ports, processes started without
// arguments), that every coupling of the ground truth points at the right
// call of the right binary, or says why it cannot.
func TestAttachLegacyshop(t *testing.T) {
	j := Attach(bundledPlan(t, recordings.LegacyshopSynthetic), legacyshop(t))
	g, err := truth.Load(filepath.Join(legacyshopDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	joins := map[string]CouplingJoin{}
	for _, c := range j.Couplings {
		joins[couplingKey(c.Kind, c.Components)] = c
	}
	for _, want := range g.Couplings {
		key := couplingKey(graph.Kind(want.Kind), want.Components)
		code, ok := shopCode[key]
		if !ok {
			t.Errorf("ground-truth coupling %s is not in shopCode: add the calls behind it", key)
			continue
		}
		got, ok := joins[key]
		if !ok {
			t.Errorf("no runtime coupling %s in the plan", key)
			continue
		}
		for comp, pos := range code {
			if pos != "" && !hasCode(got.Code, comp, pos) {
				t.Errorf("%s: %s should point at %s, got %+v", key, comp, pos, got.Code)
			}
		}
	}
	checkComponents(t, j)
	checkPredictions(t, j)
}

// TestAttachRealRecording joins the real eBPF recording of legacyshop:
// its processes were started with flags (-config, -spool, -fifo, -db...),
// so those sites match by the value given on the command line.
func TestAttachRealRecording(t *testing.T) {
	plan := bundledPlan(t, recordings.Legacyshop)
	j := Attach(plan, legacyshop(t))
	if len(j.Couplings) < 10 {
		t.Fatalf("only %d couplings in the real recording", len(j.Couplings))
	}
	flags := 0
	for _, c := range j.Couplings {
		key := couplingKey(c.Kind, c.Components)
		code, ok := shopCode[key]
		if !ok {
			t.Errorf("coupling %s of the real recording is not in shopCode", key)
			continue
		}
		for comp, pos := range code {
			if pos != "" && !hasCode(c.Code, comp, pos) {
				t.Errorf("%s: %s should point at %s, got %+v", key, comp, pos, c.Code)
			}
		}
		for _, s := range c.Code {
			if s.Match == "flag" {
				flags++
			}
		}
	}
	if flags < 4 {
		t.Errorf("%d sites matched by a flag given on the command line, want at least 4 (config x3, -spool, -fifo, -db, -listen)", flags)
	}
}

func hasCode(code []CodeSite, comp, pos string) bool {
	for _, c := range code {
		if c.Component == comp && c.Pos == pos {
			return true
		}
	}
	return false
}

func checkComponents(t *testing.T, j *JoinReport) {
	t.Helper()
	for _, c := range j.Components {
		switch {
		case c.Component == "rotate-logs.sh":
			if c.Binary != "" || !strings.Contains(c.By, "not Go") {
				t.Errorf("rotate-logs.sh: %+v, want a shell script that is not Go", c)
			}
		case c.Binary != c.Component || c.By != "name":
			t.Errorf("component %s: %+v, want its binary by name", c.Component, c)
		}
	}
	if got := strings.Join(j.NotTraced, ","); got != "shop-cron,shop-load,shop-run" {
		t.Errorf("not traced: %s", got)
	}
}

func checkPredictions(t *testing.T, j *JoinReport) {
	t.Helper()
	var predicted []string
	for _, c := range j.Couplings {
		if c.Predicted {
			predicted = append(predicted, couplingKey(c.Kind, c.Components))
		}
	}
	// Every ground-truth coupling between Go programs is predicted from the
	// source tree; see TestLegacyshopPredicted.
	want := "config shop-app,shop-cache,shop-web|dir shop-app,shop-worker|fifo shop-app,shop-audit|file shop-app,shop-web|" +
		"pipe shop-logger,shop-worker|shm shop-metrics,shop-web|tcp shop-app,shop-db|tcp shop-db,shop-worker|tcp shop-app,shop-cache|" +
		"udp shop-app,shop-metrics|unix shop-app,shop-web"
	if strings.Join(predicted, "|") != want {
		t.Errorf("predicted and seen: %q, want %q", predicted, want)
	}
	if len(j.NeverSeen) != 0 {
		t.Errorf("never seen: %+v", j.NeverSeen)
	}
	learned := map[string]string{}
	for _, s := range j.Learned {
		learned[s.Key] = s.Value
	}
	// The keys of shop.conf resolve, through the Go string that is its
	// content in the source tree, to the fields of legacyshop.Install that
	// fill it; the run time says what they were.
	for key, value := range map[string]string{
		"legacyshop.Install.AppSocket": "/srv/legacyshop/run/legacyshop/app.sock",
		"legacyshop.Install.CachePID":  "/srv/legacyshop/run/legacyshop/cache.pid",
		"legacyshop.Install.FIFO":      "/srv/legacyshop/run/legacyshop/audit.fifo",
		"legacyshop.Install.ShopLog":   "/srv/legacyshop/var/log/legacyshop/shop.log",
		"legacyshop.Install.SpoolDir":  "/srv/legacyshop/var/spool/legacyshop/orders",
		"legacyshop.Install.ShmPath":   "/dev/shm/legacyshop-stats",
	} {
		if learned[key] != value {
			t.Errorf("learned %s = %q, want %q", key, learned[key], value)
		}
	}
}

// TestAttachFlagAndBuildInfo: a component whose executable is a Go binary
// is matched by its build information, and a flag given on its command
// line decides which value a site had.
func TestAttachFlagAndBuildInfo(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	info, err := buildinfo.ReadFile(exe)
	if err != nil {
		t.Skipf("the test binary has no build information: %v", err)
	}
	res := &Result{Binaries: []Binary{{Name: "worker", Package: info.Path}}, Sites: []Site{{
		Binary: "worker", Pos: "main.go:10", Kind: "dir", Op: "list", Call: "os.ReadDir",
		Resources: []Resource{resource(Value{Parts: []Part{{Lit: "/var/spool/app"}}, Flags: []string{"spool"}})},
	}}}
	plan := &graph.Plan{
		Components: []graph.Component{{Name: "sweeper", Exe: exe, Members: []graph.Member{{Exe: exe, Argv: []string{exe, "-spool", "/data/queue"}}}}},
		Couplings: []graph.Coupling{{Kind: graph.KindDir, Resource: "/data/queue", Components: []string{"sweeper"},
			Evidence: graph.Evidence{Processes: []graph.Endpoint{{Component: "sweeper", Role: "reads"}}}}},
	}
	j := Attach(plan, res)
	if c := j.Components[0]; c.Binary != "worker" || c.By != "buildinfo" {
		t.Fatalf("component: %+v, want worker by buildinfo", c)
	}
	if code := j.Couplings[0].Code; len(code) != 1 || code[0].Match != "flag" {
		t.Fatalf("code: %+v, want one site matched by its flag", code)
	}
	plan.Components[0].Members[0].Argv = []string{exe, "--spool=/elsewhere"}
	if code := Attach(plan, res).Couplings[0].Code; len(code) != 0 {
		t.Fatalf("code: %+v, want none: the process was started with another -spool", code)
	}
}
