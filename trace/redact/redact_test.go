package redact

import (
	"reflect"
	"strings"
	"testing"
)

func TestArgv(t *testing.T) {
	cases := []struct {
		in, want []string
	}{
		{[]string{"app", "--password=hunter2", "-v"}, []string{"app", "--password=<redacted>", "-v"}},
		{[]string{"app", "--password", "hunter2", "-v"}, []string{"app", "--password", "<redacted>", "-v"}},
		{[]string{"/usr/bin/mysql", "-uroot", "-phunter2", "shop"}, []string{"/usr/bin/mysql", "-uroot", "-p<redacted>", "shop"}},
		{[]string{"nc", "-p8080"}, []string{"nc", "-p8080"}},
		{[]string{"env", "PGPASSWORD=hunter2", "psql"}, []string{"env", "PGPASSWORD=<redacted>", "psql"}},
		{[]string{"env", "AWS_SECRET_ACCESS_KEY=abc/def", "aws"}, []string{"env", "AWS_SECRET_ACCESS_KEY=<redacted>", "aws"}},
		{[]string{"curl", "https://bob:hunter2@example.com/x"}, []string{"curl", "https://bob:<redacted>@example.com/x"}},
		{[]string{"app", "--db=postgres://shop:s3cr3t@db:5432/shop"}, []string{"app", "--db=postgres://shop:<redacted>@db:5432/shop"}},
		{[]string{"app", "--api-token", "abc", "--port", "80"}, []string{"app", "--api-token", "<redacted>", "--port", "80"}},
		{[]string{"nginx", "-g", "daemon off;"}, []string{"nginx", "-g", "daemon off;"}},
		{[]string{"app", "-config", "/etc/app.conf"}, []string{"app", "-config", "/etc/app.conf"}},
		{[]string{"sh", "-c", "app --password=hunter2 & PGPASSWORD=hunter2 psql; curl https://a:hunter2@h/"},
			[]string{"sh", "-c", "app --password=<redacted> & PGPASSWORD=<redacted> psql; curl https://a:<redacted>@h/"}},
		{[]string{"sh", "-c", "mysqldump --password 'hunter2' db"}, []string{"sh", "-c", "mysqldump --password <redacted> db"}},
		{[]string{"sh", "-c", "tool --api-token s3cr3t --verbose"}, []string{"sh", "-c", "tool --api-token <redacted> --verbose"}},
	}
	for _, c := range cases {
		got := Argv(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Argv(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, a := range got {
			if strings.Contains(a, "hunter2") || strings.Contains(a, "s3cr3t") {
				t.Errorf("Argv(%q) leaked a secret: %q", c.in, got)
			}
		}
	}
}

func TestArgvDoesNotModifyInput(t *testing.T) {
	in := []string{"app", "--password=x"}
	Argv(in)
	if in[1] != "--password=x" {
		t.Fatalf("input modified: %q", in)
	}
}

func FuzzArgv(f *testing.F) {
	f.Add("--password=x", "-psecret", "http://a:b@c")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		out := Argv([]string{"mysql", a, b, c})
		if len(out) != 4 {
			t.Fatalf("length changed: %q", out)
		}
		if again := Argv(out); !reflect.DeepEqual(again, out) {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}
	})
}
