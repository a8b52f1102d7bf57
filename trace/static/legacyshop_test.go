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
	// Settings read from shop.conf and db.conf resolve through the Go
	// strings that are those files' content (legacyshop.go, writeFiles) to
	// the fields of legacyshop.Install that fill them; flags get, besides
	// their defaults, the values scripts/start.sh.tmpl starts the programs
	// with. The config key stays among the keys.
	cases := []struct {
		binary, pos, kind, op, text string
		keys                        []string
	}{
		{"shop-web", "cmd/shop-web/main.go:55", "tcp", "listen", "0.0.0.0:{i.Ports.Web}", []string{"legacyshop.Install.Ports.Web", "shopconf.Config[web_listen]"}},
		{"shop-web", "cmd/shop-web/main.go:68", "unix", "dial", "{i.AppSocket}", []string{"legacyshop.Install.AppSocket", "shopconf.Config[app_socket]"}},
		{"shop-web", "cmd/shop-web/main.go:93", "file", "read", "/etc/legacyshop/shop.conf (-config) | {.ShopConf} (-config)", nil},
		{"shop-web", "cmd/shop-web/main.go:174", "shm", "mmap", "{i.ShmPath}", []string{"legacyshop.Install.ShmPath", "shopconf.Config[shm_path]"}},
		{"shop-app", "cmd/shop-app/main.go:57", "unix", "listen", "{i.AppSocket}", []string{"legacyshop.Install.AppSocket", "shopconf.Config[app_socket]"}},
		{"shop-app", "cmd/shop-app/main.go:91", "tcp", "dial", "127.0.0.1:{i.Ports.Cache} | 127.0.0.1:{i.Ports.DB}", nil},
		{"shop-app", "cmd/shop-app/main.go:171", "udp", "send", "127.0.0.1:{i.Ports.Metrics}", nil},
		{"shop-app", "cmd/shop-app/main.go:313", "fifo", "write", "{i.FIFO}", nil},
		{"shop-cache", "cmd/shop-cache/main.go:45", "signal", "notify", "SIGHUP", nil},
		{"shop-cache", "cmd/shop-cache/main.go:56", "tcp", "listen", "127.0.0.1:{i.Ports.Cache}", nil},
		{"shop-db", "cmd/shop-db/main.go:60", "tcp", "listen", "127.0.0.1:{i.Ports.DB}", nil},
		{"shop-worker", "cmd/shop-worker/main.go:45", "tcp", "dial", "127.0.0.1:5433 (-db) | 127.0.0.1:{.Ports.DB} (-db)", nil},
		{"shop-worker", "cmd/shop-worker/main.go:64", "dir", "list", "/var/spool/legacyshop/orders (-spool) | {.SpoolDir} (-spool)", nil},
		{"shop-metrics", "cmd/shop-metrics/main.go:42", "udp", "listen", "127.0.0.1:8125 (-listen) | 127.0.0.1:{.Ports.Metrics} (-listen)", nil},
		{"shop-metrics", "cmd/shop-metrics/main.go:70", "shm", "mmap", "/dev/shm/legacyshop (-shm) | {.ShmPath} (-shm)", nil},
		{"shop-audit", "cmd/shop-audit/main.go:50", "fifo", "read", "/run/legacyshop/audit.fifo (-fifo) | {.FIFO} (-fifo)", nil},
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

// TestLegacyshopPredicted checks the couplings predicted from the source
// of the fixture against its ground truth (expected.json, 14 couplings).
//
// Predicted (11 of the 14, in 10 couplings: both clients of shop-db meet
// its listener in one):
//   - config shop.conf (shop-app, shop-cache, shop-web): the same -config
//     default, and the same {{.ShopConf}} in start.sh.tmpl;
//   - unix app.sock, tcp to shop-cache, tcp to shop-db (from shop-app and
//     shop-worker), udp to shop-metrics, the spool directory, the FIFO
//     (a FIFO because start.sh.tmpl makes it with mkfifo), the shared
//     memory and the shared shop.log: the two sides read a key of shop.conf
//     or db.conf, or a flag, whose values the source tree writes from the
//     same field of legacyshop.Install: the Go string of shop.conf and
//     db.conf in legacyshop.go (writeFiles: "db_addr = 127.0.0.1:%d" of
//     i.Ports.DB) and the flags start.sh.tmpl passes ("-db
//     127.0.0.1:{{.Ports.DB}}"). No literal value exists in source: ports
//     are picked free and paths laid out under a root at install time;
//   - pipe shop-worker -> shop-logger: start.sh.tmpl runs "shop-worker ... |
//     shop-logger ...".
//
// Not visible in the Go source (shown only by a recording):
//   - signal SIGHUP rotate-logs.sh -> shop-cache, file cache.pid
//     shop-cache -> rotate-logs.sh, dir var/log/legacyshop (rotate-logs.sh,
//     shop-cache): the other side is rotate-logs.sh, a shell script (kill
//     -HUP, /bin/cat, /bin/mv); only shop-cache's calls are in Go (the
//     signal.Notify of SIGHUP, the pid file and log it writes), and the
//     scripts are read only for the command lines that start binaries.
func TestLegacyshopPredicted(t *testing.T) {
	var got []string
	for _, c := range legacyshop(t).Couplings {
		got = append(got, string(c.Kind)+" "+c.Resource+" "+sides(c))
	}
	want := []string{
		"config /etc/legacyshop/shop.conf shop-app, shop-cache, shop-web",
		"dir {legacyshop.Install.SpoolDir} shop-app -> shop-worker",
		"fifo {legacyshop.Install.FIFO} shop-app -> shop-audit",
		"file {legacyshop.Install.ShopLog} shop-app, shop-web",
		"pipe pipe shop-worker -> shop-logger",
		"shm {legacyshop.Install.ShmPath} shop-metrics -> shop-web",
		"tcp 127.0.0.1:{.Ports.DB} shop-app, shop-worker -> shop-db",
		"tcp 127.0.0.1:{i.Ports.Cache} shop-app -> shop-cache",
		"udp 127.0.0.1:{i.Ports.Metrics} shop-app -> shop-metrics",
		"unix {legacyshop.Install.AppSocket} shop-web -> shop-app",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("predicted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each value substituted from the source tree says where it was found.
	for _, c := range legacyshop(t).Couplings {
		if c.Kind == "tcp" && strings.Contains(c.Resource, "Ports.DB") {
			for _, w := range []string{"shop.conf db_addr (legacyshop.go:185)", "db.conf listen (legacyshop.go:194)", "start.sh.tmpl -db (scripts/start.sh.tmpl:23)"} {
				if !strings.Contains(c.Basis, w) {
					t.Errorf("basis of %s lacks %q: %s", c.Resource, w, c.Basis)
				}
			}
		}
	}
}
