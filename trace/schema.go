package trace

// SchemaVersion is the version of the trace schema this build writes and the
// newest it reads. It is stored in PRAGMA user_version. Bump it, and document
// the change in docs/trace-format.md, whenever a table or column changes.
const SchemaVersion = 1

// applicationID marks a SQLite file as a decompose trace (PRAGMA
// application_id): "DCMP" in ASCII.
const applicationID = 0x44434d50

// schema creates the tables of a new trace. Column meanings are documented in
// docs/trace-format.md; keep the two in step.
const schema = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE host (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	hostname TEXT NOT NULL,
	kernel   TEXT NOT NULL,
	boot_id  TEXT NOT NULL,
	ips      TEXT NOT NULL, -- JSON array of strings
	start_ns INTEGER NOT NULL,
	end_ns   INTEGER NOT NULL
);

CREATE TABLE processes (
	id        INTEGER PRIMARY KEY,
	pid       INTEGER NOT NULL,
	ppid      INTEGER NOT NULL,
	parent_id INTEGER NOT NULL, -- processes.id, 0 when unknown
	start_ns  INTEGER NOT NULL,
	exit_ns   INTEGER NOT NULL, -- 0 while running
	exit_code INTEGER NOT NULL,
	exe       TEXT NOT NULL,
	argv      TEXT NOT NULL,    -- JSON array of strings, secrets redacted
	comm      TEXT NOT NULL,
	uid       INTEGER NOT NULL,
	gid       INTEGER NOT NULL,
	cgroup    TEXT NOT NULL,
	netns     INTEGER NOT NULL,
	snapshot  INTEGER NOT NULL  -- 1 when running before recording started
);

CREATE TABLE resources (
	id     INTEGER PRIMARY KEY,
	kind   TEXT NOT NULL CHECK (kind IN ('file','dir','pipe','fifo','unix','tcp','udp','sysvshm')),
	dev    INTEGER NOT NULL,
	ino    INTEGER NOT NULL,
	path   TEXT NOT NULL,
	src    TEXT NOT NULL,
	dst    TEXT NOT NULL,
	listen INTEGER NOT NULL,
	key    INTEGER NOT NULL
);

CREATE TABLE accesses (
	process_id  INTEGER NOT NULL,
	resource_id INTEGER NOT NULL,
	opens       INTEGER NOT NULL,
	opens_write INTEGER NOT NULL,
	reads       INTEGER NOT NULL,
	read_bytes  INTEGER NOT NULL,
	writes      INTEGER NOT NULL,
	write_bytes INTEGER NOT NULL,
	creates     INTEGER NOT NULL,
	removes     INTEGER NOT NULL,
	renames     INTEGER NOT NULL,
	shared_maps INTEGER NOT NULL,
	execs       INTEGER NOT NULL,
	connects    INTEGER NOT NULL,
	accepts     INTEGER NOT NULL,
	listens     INTEGER NOT NULL,
	first_ns    INTEGER NOT NULL,
	last_ns     INTEGER NOT NULL,
	PRIMARY KEY (process_id, resource_id)
) WITHOUT ROWID;

CREATE TABLE signals (
	sender_id  INTEGER NOT NULL,
	target_id  INTEGER NOT NULL, -- processes.id, 0 when not traced
	target_pid INTEGER NOT NULL,
	signo      INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	first_ns   INTEGER NOT NULL,
	last_ns    INTEGER NOT NULL,
	PRIMARY KEY (sender_id, target_pid, signo)
) WITHOUT ROWID;

CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
	uid  INTEGER PRIMARY KEY,
	name TEXT NOT NULL
);

CREATE TABLE blind_spots (
	what   TEXT PRIMARY KEY,
	count  INTEGER NOT NULL,
	detail TEXT NOT NULL
) WITHOUT ROWID;
`
