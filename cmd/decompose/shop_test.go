package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/decompose-dev/decompose/fixtures/legacyshop"
)

// newShopInstall builds the fixture application and installs it under a
// temporary root (not started).
func newShopInstall(t *testing.T, ctx context.Context) *legacyshop.Install {
	t.Helper()
	bin := t.TempDir()
	if err := legacyshop.Build(ctx, bin); err != nil {
		t.Fatal(err)
	}
	inst, err := legacyshop.NewInstall(filepath.Join(t.TempDir(), "vm"), bin)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// startShop builds, installs and starts the fixture application, stopped
// at cleanup.
func startShop(t *testing.T, ctx context.Context) *legacyshop.App {
	t.Helper()
	app, err := newShopInstall(t, ctx).Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Stop() })
	return app
}
