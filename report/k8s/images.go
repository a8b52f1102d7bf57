package k8s

import (
	"regexp"
	"strings"

	"github.com/decompose-dev/decompose/graph"
)

// wellKnown is an official image that replaces a recognised server, with
// the environment its entrypoint needs. Secret values become keys of a
// Secret stub; plain values are set directly.
type wellKnown struct {
	product string
	image   string
	secrets []string          // environment variables whose values are secrets
	plain   map[string]string // environment variables with fixed values
	// dataEnv, when set, is the variable that tells the image where its
	// data lives: it gets the recorded data directory, so the
	// PersistentVolumeClaim stays at the path the VM used.
	dataEnv string
}

// Official images of the servers legacy VMs run most. Tags are the stable
// major versions at the time of writing: pin the one the VM ran.
var wellKnownImages = []struct {
	exe  *regexp.Regexp
	argv *regexp.Regexp // must also match the command line, when set
	img  wellKnown
}{
	{regexp.MustCompile(`^(postgres|postmaster)$`), nil, wellKnown{product: "PostgreSQL", image: "docker.io/library/postgres:17", secrets: []string{"POSTGRES_PASSWORD"}, dataEnv: "PGDATA"}},
	{regexp.MustCompile(`^(mariadbd|mysqld)$`), regexp.MustCompile(`mariadb`), wellKnown{product: "MariaDB", image: "docker.io/library/mariadb:11", secrets: []string{"MARIADB_ROOT_PASSWORD"}}},
	{regexp.MustCompile(`^mysqld$`), nil, wellKnown{product: "MySQL", image: "docker.io/library/mysql:8.4", secrets: []string{"MYSQL_ROOT_PASSWORD"}}},
	{regexp.MustCompile(`^redis-server$`), nil, wellKnown{product: "Redis", image: "docker.io/library/redis:7"}},
	{regexp.MustCompile(`^memcached$`), nil, wellKnown{product: "Memcached", image: "docker.io/library/memcached:1.6"}},
	{regexp.MustCompile(`^nginx$`), nil, wellKnown{product: "nginx", image: "docker.io/library/nginx:1.27"}},
	{regexp.MustCompile(`^(httpd|apache2)$`), nil, wellKnown{product: "Apache httpd", image: "docker.io/library/httpd:2.4"}},
	{regexp.MustCompile(`^php-fpm[0-9.]*$`), nil, wellKnown{product: "PHP-FPM", image: "docker.io/library/php:8.3-fpm"}},
	{regexp.MustCompile(`^(rabbitmq-server|beam\.smp)$`), regexp.MustCompile(`rabbit`), wellKnown{product: "RabbitMQ", image: "docker.io/library/rabbitmq:4", secrets: []string{"RABBITMQ_DEFAULT_PASS"}, plain: map[string]string{"RABBITMQ_DEFAULT_USER": "admin"}}},
	{regexp.MustCompile(`^haproxy$`), nil, wellKnown{product: "HAProxy", image: "docker.io/library/haproxy:3.0"}},
}

// lookupImage finds the official image for a component's executable (not
// its name: a program called shop-db is not a database we know).
func lookupImage(c *graph.Component) *wellKnown {
	exe := baseName(c.Exe)
	argv := strings.Join(c.Command, " ") + " " + c.Exe
	for _, w := range wellKnownImages {
		if w.exe.MatchString(exe) && (w.argv == nil || w.argv.MatchString(argv)) {
			img := w.img
			return &img
		}
	}
	return nil
}

// placeholderImage is the image a person must build for a component.
func placeholderImage(container string) string {
	return "localhost/decompose/" + container + ":draft"
}
