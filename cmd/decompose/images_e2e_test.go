package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/report/images"
)

// TestImagesNginxUnderPodman is the end-to-end proof on a real Debian
// service: nginx serving a static site on a loopback port, with its own
// config in a temporary directory, is recorded from its start by
// `decompose record -- nginx ...` while the page is fetched, `decompose
// images` drafts its image from the observed files only, build.sh imports
// it with podman, podman build makes the same image from the Containerfile
// (FROM scratch), and a container of it, given its config the way a
// ConfigMap would (with the loopback listener opened, as the manifests'
// address change asks), serves the page to the host.
func TestImagesNginxUnderPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: records with eBPF and runs podman")
	}
	podmanReady(t)
	nginx := lookNginx(t)
	site := newNginxSite(t)
	tracePath := recordNginx(t, nginx, site)
	out := t.TempDir()
	if code, _, errOut := decompose(t, "images", "-o", out, tracePath); code != 0 {
		t.Fatalf("images: exit %d: %s", code, errOut)
	}
	img := readImage(t, out, "nginx")
	checkNginxInventory(t, out, img, site)
	tag := buildTagged(t, out, img)
	cfg := t.TempDir()
	conf := strings.Replace(site.conf(), "listen 127.0.0.1:", "listen 0.0.0.0:", 1)
	if err := os.WriteFile(filepath.Join(cfg, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// build.sh kept the root filesystem: the Containerfile builds from it
	// too (FROM scratch needs no registry), and that image is the one run.
	built := strings.TrimSuffix(img.Ref, ":draft") + ":" + tag + "-containerfile"
	t.Cleanup(func() { podman("rmi", "-f", built) })
	mustPodman(t, "build", "-q", "-t", built, filepath.Join(out, "nginx"))
	name := "decompose-e2e-nginx-" + uniqueSuffix()
	t.Cleanup(func() { podman("rm", "-f", "-t", "0", name) })
	mustPodman(t, "run", "-d", "--name", name, "-v", cfg+":"+filepath.Dir(site.confPath)+":ro", built)
	ip := mustPodman(t, "inspect", name, "--format", "{{.NetworkSettings.IPAddress}}")
	body := fetchBody(t, fmt.Sprintf("http://%s:%d/", ip, site.port), name)
	if body != site.page {
		t.Errorf("the container served %q, want %q", body, site.page)
	}
	logImageSize(t, img, tag)
	logImageSize(t, img, tag+"-containerfile")
}

// nginxSite is nginx's own configuration and static site below a
// temporary root standing in for the VM's directories.
type nginxSite struct {
	root, confPath, page string
	port                 int
}

func newNginxSite(t *testing.T) *nginxSite {
	t.Helper()
	root := t.TempDir()
	// nginx's workers run as nobody: they must reach the site.
	for d := root; d != "/tmp" && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	s := &nginxSite{root: root, confPath: filepath.Join(root, "etc", "nginx.conf"), port: freePort(t),
		page: "<h1>served by an image of observed files</h1>\n"}
	for _, d := range []string{"etc", "srv/site", "run", "log", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "srv/site/index.html"), []byte(s.page), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.confPath, []byte(s.conf()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { killMatching(s.confPath) })
	return s
}

func (s *nginxSite) conf() string {
	r := s.root
	return fmt.Sprintf(`user nobody nogroup;
worker_processes 2;
pid %[1]s/run/nginx.pid;
error_log %[1]s/log/error.log;
events { worker_connections 64; }
http {
  types { text/html html; }
  access_log %[1]s/log/access.log;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fastcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
  server { listen 127.0.0.1:%[2]d; root %[1]s/srv/site; }
}
`, r, s.port)
}

// recordNginx records nginx from its start (so that the libraries it
// loads and the config it reads are seen) while fetching the page.
func recordNginx(t *testing.T, nginx string, s *nginxSite) string {
	t.Helper()
	tracePath := filepath.Join(t.TempDir(), "nginx.trace")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"record", "-o", tracePath, "--duration", "10s", "--", nginx, "-e", filepath.Join(s.root, "log/error.log"),
			"-c", s.confPath, "-g", "daemon off;"}, &stdout, &stderr)
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", s.port)
	client := &http.Client{Timeout: time.Second}
	served := 0
	for served < 3 {
		select {
		case code := <-done:
			t.Fatalf("record ended (exit %d) before nginx served 3 pages: %s", code, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
		if resp, err := client.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == s.page {
				served++
			}
		}
	}
	if code := <-done; code != 0 {
		t.Fatalf("record: exit %d: %s", code, stderr.String())
	}
	return tracePath
}

// checkNginxInventory checks the draft: closed, FROM scratch, the site
// baked in, the config left to a ConfigMap, logs and pid file to emptyDirs.
func checkNginxInventory(t *testing.T, out string, img *images.Image, s *nginxSite) {
	t.Helper()
	if !img.Closed {
		t.Errorf("nginx recorded from its start should give a closed set: %q", img.Gaps)
	}
	if img.Official == nil || !strings.Contains(img.Official.Image, "nginx") {
		t.Errorf("nginx is well known: the official image should be offered, got %+v", img.Official)
	}
	class := map[string]images.Class{}
	for _, e := range img.Files {
		class[e.Path] = e.Class
	}
	for p, want := range map[string]images.Class{s.confPath: images.Config, filepath.Join(s.root, "srv/site/index.html"): images.Content} {
		if class[p] != want {
			t.Errorf("%s: %q, want %q", p, class[p], want)
		}
	}
	for _, p := range img.Tree {
		if strings.HasPrefix(p, filepath.Join(s.root, "etc")) || strings.HasPrefix(p, filepath.Join(s.root, "log")) {
			t.Errorf("the image bakes in %s", p)
		}
	}
	cf, err := os.ReadFile(filepath.Join(out, "nginx", "Containerfile"))
	if err != nil || !strings.Contains(string(cf), "\nFROM scratch\n") {
		t.Errorf("the Containerfile is not FROM scratch (%v):\n%s", err, cf)
	}
}

// buildTagged runs build.sh for img with a tag of this test's own, and
// removes the image at the end.
func buildTagged(t *testing.T, out string, imgs ...*images.Image) string {
	t.Helper()
	tag := "e2e-" + uniqueSuffix()
	var names []string
	for _, img := range imgs {
		names = append(names, img.Name)
		ref := strings.TrimSuffix(img.Ref, ":draft") + ":" + tag
		t.Cleanup(func() { podman("rmi", "-f", ref) })
	}
	cmd := exec.Command("bash", append([]string{filepath.Join(out, "build.sh")}, names...)...)
	cmd.Env = append(os.Environ(), "TAG="+tag, "KEEP_ROOTFS=1") // out is a test directory: removed at the end
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, b)
	}
	return tag
}

func readImage(t *testing.T, out, name string) *images.Image {
	t.Helper()
	for _, img := range readImages(t, out).Images {
		if img.Name == name {
			return img
		}
	}
	t.Fatalf("images.json has no image %s", name)
	return nil
}

func readImages(t *testing.T, out string) *images.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "images.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res images.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

// logImageSize reports the image podman built against the packages and
// directories its files came from.
func logImageSize(t *testing.T, img *images.Image, tag string) {
	t.Helper()
	ref := strings.TrimSuffix(img.Ref, ":draft") + ":" + tag
	size, _ := podman("image", "inspect", "--format", "{{.Size}}", ref)
	var from int64
	var parts []string
	for _, s := range img.Sources {
		from += s.Size
		parts = append(parts, fmt.Sprintf("%s %s %d", s.Kind, s.Name, s.Size))
	}
	t.Logf("%s: image %s bytes (files %d, %d paths); sources total %d bytes: %s", img.Name, size, img.Size, len(img.Tree), from, strings.Join(parts, "; "))
}

func fetchBody(t *testing.T, url, container string) string {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			logs, _ := podman("logs", container)
			t.Fatalf("%s never answered: %v\n%s", url, err, logs)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func lookNginx(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Skip("nginx is not installed (scripts/test.sh installs it)")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func uniqueSuffix() string { return strconv.FormatInt(time.Now().UnixNano()%1e9, 36) }

// killMatching kills the processes whose command line contains marker, a
// path only this test's processes name, and their children (nginx renames
// its workers, so they do not show the marker); nothing else is touched.
func killMatching(marker string) {
	dirs, _ := os.ReadDir("/proc")
	matched := map[int]bool{}
	parents := map[int]int{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cmdline, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline")); err == nil && strings.Contains(string(cmdline), marker) {
			matched[pid] = true
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat")); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
				if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
					parents[pid], _ = strconv.Atoi(f[1])
				}
			}
		}
	}
	for pid, ppid := range parents {
		if matched[pid] || matched[ppid] {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// TestImagesNginxRecordedByPID records an nginx already running, as
// `decompose record --pid` does on a live VM: the snapshot sees its open
// files but not the libraries it mapped or loaded with dlopen, nor the
// files it read at start. The draft must say so: the set is not closed,
// the Containerfile starts from Debian with the packages that own nginx's
// files (dpkg on this host), and the config named on the command line
// still goes to a ConfigMap.
func TestImagesNginxRecordedByPID(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: records with eBPF")
	}
	if os.Geteuid() != 0 {
		t.Skip("recording needs root; CI runs as root")
	}
	nginx := lookNginx(t)
	site := newNginxSite(t)
	tracePath := recordNginxByPID(t, nginx, site)
	out := t.TempDir()
	if code, _, errOut := decompose(t, "images", "-o", out, tracePath); code != 0 {
		t.Fatalf("images: exit %d: %s", code, errOut)
	}
	img := readImage(t, out, "nginx")
	if img.Closed || !strings.Contains(strings.Join(img.Gaps, "\n"), "dlopen") {
		t.Errorf("nginx recorded by pid must not be closed (it can dlopen, and did before the recording): %q", img.Gaps)
	}
	if !hasFile(img, "/lib64/ld-linux-x86-64.so.2") || !slices.Contains(img.Packages, "nginx") {
		t.Errorf("the ELF closure (dynamic loader) or the nginx package is missing: packages %v", img.Packages)
	}
	cf, _ := os.ReadFile(filepath.Join(out, "nginx", "Containerfile"))
	if !strings.Contains(string(cf), "\nFROM "+images.DebianBase+"\n") || !strings.Contains(string(cf), " nginx ") {
		t.Errorf("the Containerfile should install nginx on Debian:\n%s", cf)
	}
	for _, e := range img.Files {
		if e.Path == site.confPath && e.Class != images.Config {
			t.Errorf("%s: %s, want config (named on the command line)", e.Path, e.Class)
		}
	}
}

// recordNginxByPID starts nginx, then records it by its pid for a few
// seconds while clients from outside fetch the page.
func recordNginxByPID(t *testing.T, nginx string, site *nginxSite) string {
	t.Helper()
	cmd := exec.Command(nginx, "-e", filepath.Join(site.root, "log/error.log"), "-c", site.confPath, "-g", "daemon off;")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // TERM: nginx's master stops its workers, then exits
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/", site.port)
	fetchBody(t, url, "")
	tracePath := filepath.Join(t.TempDir(), "nginx.trace")
	stop := make(chan struct{})
	go func() { // clients from outside, so that nginx's listener is exposed
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
				if resp, err := http.Get(url); err == nil {
					resp.Body.Close()
				}
			}
		}
	}()
	code, _, errOut := decompose(t, "record", "-o", tracePath, "--duration", "4s", "--pid", strconv.Itoa(cmd.Process.Pid))
	close(stop)
	if code != 0 {
		t.Fatalf("record --pid: exit %d: %s", code, errOut)
	}
	return tracePath
}
