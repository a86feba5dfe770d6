package config

import (
	"strings"
	"testing"
)

// Windows line ends and a byte order mark are a valid file.
func TestParseCRLFAndBOM(t *testing.T) {
	yml := "\uFEFFpgbouncer:\r\n  - name: a\r\n    dsn: postgres://u:pw@127.0.0.1/pgbouncer\r\npostgres:\r\n  - name: b\r\n    dsn: x\r\n    databases:\r\n      - app\r\n"
	cfg, err := Parse("f.yml", []byte(yml))
	if err != nil || len(cfg.PgBouncer) != 1 || len(cfg.Postgres) != 1 || strings.Join(cfg.Postgres[0].Databases, ",") != "app" {
		t.Errorf("%v %+v", err, cfg)
	}
}
