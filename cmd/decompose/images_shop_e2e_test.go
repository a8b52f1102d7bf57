package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/decompose-dev/decompose/fixtures/legacyshop"
	"github.com/decompose-dev/decompose/report/images"
	"github.com/decompose-dev/decompose/report/k8s"
	"github.com/decompose-dev/decompose/trace/record"
)

// TestImagesRunLegacyshopUnderPodman is the end-to-end proof of images
// built from observed files only: a fresh install of the fixture is
// recorded live with eBPF while orders flow, `decompose manifests` and
// `decompose images` draft the pods and the images from that recording,
// build.sh builds every image from the host's files (no busybox, no hand
// picked files), the pods run under `podman kube play` on one network with
// their Services' names as aliases, and shop-load drives orders through
// the decomposed application. Passing means every image held what its
// programs needed and nothing the platform provides: config came from
// ConfigMaps, data went to shop-db's volume, and logs, spool, FIFO and
// socket to emptyDirs.
func TestImagesRunLegacyshopUnderPodman(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test: records with eBPF and runs podman")
	}
	podmanReady(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	inst := newShopInstall(t, ctx)
	tracePath := recordShopLive(t, ctx, inst)
	mdir, idir := t.TempDir(), t.TempDir()
	if code, _, errOut := decompose(t, "manifests", "-f", "k8s", "-o", mdir, "--config-content", tracePath); code != 0 {
		t.Fatalf("manifests: exit %d: %s", code, errOut)
	}
	if code, _, errOut := decompose(t, "images", "-o", idir, tracePath); code != 0 {
		t.Fatalf("images: exit %d: %s", code, errOut)
	}
	res := readImages(t, idir)
	checkShopImages(t, res, inst)
	tag := buildTagged(t, idir, res.Images...)
	pods := readPods(t, mdir)
	network := "decompose-img-e2e-" + uniqueSuffix()
	mustPodman(t, "network", "create", network)
	t.Cleanup(func() { podman("network", "rm", "-f", network) })
	for _, p := range pods {
		retag(p, tag)
		if p.StatefulSet != nil {
			requireDBConf(t, inst, p)
		}
		play(t, mdir, p, network)
	}
	url := fmt.Sprintf("http://%s:%d", podIP(t, "shop-web"), inst.Ports.Web)
	waitHTTP(t, url+"/")
	load := exec.CommandContext(ctx, filepath.Join(inst.BinDir, legacyshop.LoadDriver), "-url", url, "-orders", "40", "-timeout", "60s")
	if b, err := load.CombinedOutput(); err != nil {
		t.Fatalf("shop-load through the decomposed app built from observed files: %v: %s\n%s", err, b, podLogs())
	}
	checkShopPods(t, inst)
	for _, img := range res.Images {
		logImageSize(t, img, tag)
	}
}

// recordShopLive starts the install, records it from its start script
// down while shop-load drives orders (and the cron job rotates logs), then
// stops it. The install stays on disk: the images are built from it.
func recordShopLive(t *testing.T, ctx context.Context, inst *legacyshop.Install) string {
	t.Helper()
	app, err := inst.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Stop()
	out := filepath.Join(t.TempDir(), "shop.trace")
	recCtx, stop := context.WithCancel(ctx)
	defer stop()
	started, done := make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := record.Run(recCtx, record.Options{PID: app.StartPID(), Output: out, OnStart: func() { close(started) }})
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("record: %v", err)
	}
	driveErr := app.Drive(ctx, 30)
	time.Sleep(3 * time.Second) // a few runs of the cron job
	stop()
	if err := errors.Join(driveErr, <-done, app.Stop()); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkShopImages checks the drafts before anything is built: every set
// is closed (static Go programs; the shells, mv, cat and their libraries
// for the script and the manifests' wrappers), and no image holds the
// install's config, data, logs or runtime state.
func checkShopImages(t *testing.T, res *images.Result, inst *legacyshop.Install) {
	t.Helper()
	if len(res.Images) < 8 {
		t.Errorf("want an image per container (8), got %d", len(res.Images))
	}
	never := []string{filepath.Dir(inst.ShopConf), inst.DataDir, inst.LogDir, inst.RunDir, inst.SpoolDir}
	for _, img := range res.Images {
		if !img.Closed {
			t.Errorf("%s: not closed: %q", img.Name, img.Gaps)
		}
		for _, p := range img.Tree {
			for _, n := range never {
				if p == n || strings.HasPrefix(p, n+"/") {
					t.Errorf("%s bakes in %s", img.Name, p)
				}
			}
		}
	}
	rotate := readImageFrom(t, res, "rotate-logs-sh")
	for _, want := range []string{"/bin/sh", "/bin/mv", "/bin/cat", inst.RotateScript} {
		if !hasFile(rotate, want) {
			t.Errorf("rotate-logs-sh lacks %s (the script, its shell and the programs it runs)", want)
		}
	}
}

func readImageFrom(t *testing.T, res *images.Result, name string) *images.Image {
	t.Helper()
	for _, img := range res.Images {
		if img.Name == name {
			return img
		}
	}
	t.Fatalf("no image %s", name)
	return nil
}

func hasFile(img *images.Image, p string) bool {
	for _, e := range img.Files {
		if e.Path == p && e.Class.Baked() {
			return true
		}
	}
	return false
}

// retag points a pod's placeholder images at the tag this test built.
func retag(p *k8s.Pod, tag string) {
	ctrs := p.Template().Spec.Containers
	for i := range ctrs {
		if strings.HasSuffix(ctrs[i].Image, ":draft") {
			ctrs[i].Image = strings.TrimSuffix(ctrs[i].Image, ":draft") + ":" + tag
		}
	}
}

// checkShopPods checks that every pod did its part. The images hold no
// cat, so files inside containers are read with podman cp.
func checkShopPods(t *testing.T, inst *legacyshop.Install) {
	t.Helper()
	data := mountOf(t, "shop-db-pod-0-shop-db", inst.DataDir)
	webLogs := mountOf(t, "shop-web-pod-0-shop-app", inst.LogDir)
	cacheLogs := mountOf(t, "shop-cache-pod-0-shop-cache", inst.LogDir)
	waitChecks(t, []podCheck{
		{"orders reached shop-db's volume over the network", func() bool { return lines(filepath.Join(data, "orders.dat"), "") >= 40 }},
		{"shop-app and shop-web share shop.log", func() bool { return lines(filepath.Join(webLogs, "shop.log"), " shop-app order ") >= 40 }},
		{"shop-audit logged every order from the FIFO", func() bool { return copied(t, "shop-web-pod-0-shop-audit", inst.AuditLog, " accepted") >= 40 }},
		{"shop-logger logged the worker's pipe", func() bool { return copied(t, "shop-web-pod-0-shop-worker", inst.WorkerLog, "processed order") >= 40 }},
		{"rotate-logs.sh (dash, mv, cat from the host) rotated shop-cache's log", func() bool {
			_, err := os.Stat(filepath.Join(cacheLogs, "cache.log.1"))
			return err == nil
		}},
	})
}

// copied counts the lines with substr of a file inside a container.
func copied(t *testing.T, container, path, substr string) int {
	dst := filepath.Join(t.TempDir(), "copy")
	if _, err := podman("cp", container+":"+path, dst); err != nil {
		return 0
	}
	return lines(dst, substr)
}
