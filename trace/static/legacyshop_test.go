package static

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const legacyshopDir = "../../fixtures/legacyshop"

var (
	shopOnce sync.Once
	shopRes  *Result
	shopErr  error
)

// legacyshop analyzes the fixture application once for all tests.
func legacyshop(t *testing.T) *Result {
	t.Helper()
	shopOnce.Do(func() {
		shopRes, shopErr = Analyze(context.Background(), Options{Dir: legacyshopDir})
	})
	if shopErr != nil {
		t.Fatal(shopErr)
	}
	return shopRes
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s differs from the golden file at line %d:\n got: %s\nwant: %s\n(rewrite it with go test ./trace/static -run %s -update)", path, i+1, gl, wl, t.Name())
			return
		}
	}
}

// stable drops the figures that depend on the Go release (how many
// standard packages and functions there are), not on the fixture.
func stable(res *Result) *Result {
	c := *res
	c.Packages = 0
	c.Binaries = append([]Binary(nil), res.Binaries...)
	for i := range c.Binaries {
		c.Binaries[i].Reachable = 0
	}
	return &c
}

func TestLegacyshopGolden(t *testing.T) {
	res := stable(legacyshop(t))
	var js, text bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&text, res); err != nil {
		t.Fatal(err)
	}
	golden(t, "legacyshop.json", js.Bytes())
	golden(t, "legacyshop.txt", text.Bytes())
}

func TestLegacyshopDeterministic(t *testing.T) {
	a, _ := json.Marshal(legacyshop(t))
	res, err := Analyze(context.Background(), Options{Dir: legacyshopDir})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	if !bytes.Equal(a, b) {
		t.Fatal("two scans of the fixture differ")
	}
}

// findSite returns the site of binary at pos, or fails.
func findSite(t *testing.T, res *Result, binary, pos string) Site {
	t.Helper()
	for _, s := range res.Sites {
		if s.Binary == binary && s.Pos == pos {
			return s
		}
	}
	t.Fatalf("no site of %s at %s", binary, pos)
	return Site{}
}

func TestLegacyshopSites(t *testing.T) {
	res := legacyshop(t)
	cases := []struct {
		binary, pos, kind, op, text string
		keys                        []string
	}{
		{"shop-web", "cmd/shop-web/main.go:55", "tcp", "listen", `{cfg["web_listen"]}`, []string{"shopconf.Config[web_listen]"}},
		{"shop-web", "cmd/shop-web/main.go:68", "unix", "dial", `{cfg["app_socket"]}`, []string{"shopconf.Config[app_socket]"}},
		{"shop-web", "cmd/shop-web/main.go:93", "file", "read", "/etc/legacyshop/shop.conf (-config)", nil},
		{"shop-web", "cmd/shop-web/main.go:174", "shm", "mmap", `{cfg["shm_path"]}`, []string{"shopconf.Config[shm_path]"}},
		{"shop-app", "cmd/shop-app/main.go:57", "unix", "listen", `{cfg["app_socket"]}`, []string{"shopconf.Config[app_socket]"}},
		{"shop-app", "cmd/shop-app/main.go:91", "tcp", "dial", `{cfg["cache_addr"]} | {cfg["db_addr"]}`, nil},
		{"shop-app", "cmd/shop-app/main.go:171", "udp", "send", `{cfg["metrics_addr"]}`, nil},
		{"shop-cache", "cmd/shop-cache/main.go:45", "signal", "notify", "SIGHUP", nil},
		{"shop-cache", "cmd/shop-cache/main.go:56", "tcp", "listen", `{cfg["cache_addr"]}`, nil},
		{"shop-worker", "cmd/shop-worker/main.go:45", "tcp", "dial", "127.0.0.1:5433 (-db)", nil},
		{"shop-worker", "cmd/shop-worker/main.go:64", "dir", "list", "/var/spool/legacyshop/orders (-spool)", nil},
		{"shop-metrics", "cmd/shop-metrics/main.go:42", "udp", "listen", "127.0.0.1:8125 (-listen)", nil},
		{"shop-metrics", "cmd/shop-metrics/main.go:70", "shm", "mmap", "/dev/shm/legacyshop (-shm)", nil},
		{"shop-audit", "cmd/shop-audit/main.go:50", "file", "read", "/run/legacyshop/audit.fifo (-fifo)", nil},
		{"shop-cron", "cmd/shop-cron/main.go:115", "exec", "exec", "{j.argv[0]}", nil},
	}
	for _, c := range cases {
		s := findSite(t, res, c.binary, c.pos)
		if s.Kind != c.kind || s.Op != c.op || resourcesText(s.Resources) != c.text {
			t.Errorf("%s %s: %s %s %s, want %s %s %s", c.binary, c.pos, s.Kind, s.Op, resourcesText(s.Resources), c.kind, c.op, c.text)
		}
		if c.keys != nil && strings.Join(s.Resources[0].Keys, ",") != strings.Join(c.keys, ",") {
			t.Errorf("%s %s: keys %v, want %v", c.binary, c.pos, s.Resources[0].Keys, c.keys)
		}
	}
	// The helper package daemon runs every program: its signal.Notify
	// counts for each of the eleven binaries.
	n := 0
	for _, s := range res.Sites {
		if s.Pos == "internal/daemon/daemon.go:40" && resourcesText(s.Resources) == "SIGINT | SIGTERM" {
			n++
		}
	}
	if len(res.Binaries) != 11 || n != 11 {
		t.Errorf("%d binaries, daemon.Main's signal.Notify in %d of them; want 11 and 11", len(res.Binaries), n)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "scripts/rotate-logs.sh.tmpl") {
		t.Errorf("notes do not name the shell scripts: %q", res.Notes)
	}
}

func TestLegacyshopPredicted(t *testing.T) {
	var got []string
	for _, c := range legacyshop(t).Couplings {
		got = append(got, string(c.Kind)+" "+c.Resource+" "+sides(c))
	}
	want := []string{
		"config /etc/legacyshop/shop.conf shop-app, shop-cache, shop-web",
		"file {shopconf.Config[shop_log]} shop-app, shop-web",
		"tcp {shopconf.Config[cache_addr]} shop-app -> shop-cache",
		"unix {shopconf.Config[app_socket]} shop-web -> shop-app",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("predicted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
