package graph

import (
	"regexp"
	"strconv"
	"strings"
)

// backingNames recognises databases, caches and brokers by program name.
var backingNames = regexp.MustCompile(`(?i)(postgres|postmaster|mysqld|mariadbd|mongod|redis|memcache|valkey|keydb|rabbitmq|beam\.smp|kafka|zookeeper|etcd|elasticsearch|opensearch|cassandra|influxd|clickhouse|nats-server|mosquitto|activemq|(^|[-_])(db|database|cache|queue|mq|broker|store)([-_.]|$))`)

// backingPorts are the well-known ports of databases, caches and brokers.
var backingPorts = map[int]bool{5432: true, 3306: true, 6379: true, 11211: true, 5672: true, 27017: true,
	9092: true, 2181: true, 2379: true, 9200: true, 1433: true, 1521: true, 9042: true, 4222: true, 1883: true}

// classifyComponent decides whether c keeps persistent data (stateful) and
// whether it is a backing service that clients reach through a Service.
func (e *engine) classifyComponent(c *component) {
	c.stateful = len(c.dataDirs) > 0
	c.backing = c.stateful || backingNames.MatchString(c.name)
	for l := range c.listens {
		if i := strings.Index(l, ":"); i >= 0 && backingPorts[endpointPort(l[i+1:])] {
			c.backing = true
		}
	}
	// A daemon reads the config file its command line names at start-up,
	// usually before recording began: take it from argv.
	for _, a := range c.procs[0].p.Argv[min(1, len(c.procs[0].p.Argv)):] {
		if i := strings.IndexByte(a, '='); i > 0 && strings.HasPrefix(a, "-") {
			a = a[i+1:]
		}
		if strings.HasPrefix(a, "/") && isConfigFile(a) && !isPlatformFile(a) {
			c.configs[a] = true
		}
	}
	for _, p := range c.procs {
		c.users[e.userName(p)] = true
	}
}

// classify sets a coupling's distance, hidden flag, remedy and reason,
// following the table in product.md.
func (e *engine) classify(c *Coupling) {
	byName := e.byName()
	servers := without(c.Components, c.From)
	toBacking := false
	for _, s := range servers {
		toBacking = toBacking || byName[s].backing
	}
	switch c.Kind {
	case KindShm, KindPipe:
		c.Distance = SameContainer
	case KindConfig:
		c.Distance = AnyDistance
	case KindUnix:
		c.Distance = SamePod
		if toBacking {
			c.Distance = SeparatePods
		}
	case KindTCP, KindUDP:
		c.Distance = SamePod
		if toBacking || e.remote[c.Resource] || !isLoopback(c.Resource) {
			c.Distance = SeparatePods
		}
	default: // file, dir, fifo, signal
		c.Distance = SamePod
	}
	c.Hidden = c.Kind != KindTCP && c.Kind != KindUDP
	c.Remedy = remedies[c.Kind]
	c.Why = describe(c)
	if c.Kind == KindFile && len(c.From) > 1 && !isLog(c.Resource) && !isEphemeral(c.Resource) {
		c.Why += "; several writers of one data file: split pods would need a ReadWriteMany volume or a redesign"
	}
}

// userName names the uid of a process as its host did, or "uid N".
func (e *engine) userName(p *proc) string {
	if name := e.users[p.host][p.p.UID]; name != "" {
		return name
	}
	return "uid " + strconv.FormatUint(uint64(p.p.UID), 10)
}
