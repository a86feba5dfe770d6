package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// exportedSettings are the server settings that well-known alerts of
// postgres_exporter's mixin read next to redline's own series: the
// connection alerts subtract the reserved slots from max_connections, the
// "tables not vacuumed" alert rebuilds autovacuum's trigger point. Names and
// values are postgres_exporter's (pg_settings_<name>, the setting as a
// number); none of these has a unit to convert.
var exportedSettings = []struct {
	name string
	desc *prometheus.Desc
}{
	{"superuser_reserved_connections", settingDesc("superuser_reserved_connections", "Connection slots reserved for superusers (superuser_reserved_connections).")},
	{"reserved_connections", settingDesc("reserved_connections", "Connection slots reserved for roles with pg_use_reserved_connections (reserved_connections, PostgreSQL 16+; absent before).")},
	{"autovacuum_vacuum_scale_factor", settingDesc("autovacuum_vacuum_scale_factor", "Share of a table's rows that must be dead, beyond the threshold, before autovacuum vacuums it (autovacuum_vacuum_scale_factor).")},
	{"autovacuum_vacuum_threshold", settingDesc("autovacuum_vacuum_threshold", "Dead rows a table needs at least before autovacuum vacuums it (autovacuum_vacuum_threshold).")},
	// The wraparound alerts compare pg_database_xid_age with these: past
	// them autovacuum runs an anti-wraparound vacuum, so an age above them
	// means that vacuum is not keeping up.
	{"autovacuum_freeze_max_age", settingDesc("autovacuum_freeze_max_age", "Transaction ID age at which autovacuum forces a vacuum to freeze a table (autovacuum_freeze_max_age).")},
	{"autovacuum_multixact_freeze_max_age", settingDesc("autovacuum_multixact_freeze_max_age", "Multixact ID age at which autovacuum forces a vacuum to freeze a table (autovacuum_multixact_freeze_max_age).")},
}

func settingDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("pg_settings_"+name, help, nil, nil)
}

func init() {
	register("settings", "Server settings that postgres_exporter's connection and vacuum alerts read", collectSettings)
}

// settingsSQL reads each setting with current_setting(…, missing_ok), which
// is NULL for a setting this server does not have (reserved_connections
// before 16) and, unlike the pg_settings view, does not build every
// setting's row to return four.
const settingsSQL = `SELECT n, current_setting(n, true) FROM unnest($1::text[]) AS n`

func collectSettings(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	db, err := s.t.database(s.t.maintenance)
	if err != nil {
		return err
	}
	names := make([]string, len(exportedSettings))
	for i, e := range exportedSettings {
		names[i] = e.name
	}
	rows, err := db.pool.Query(ctx, settingsSQL, names)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	values := map[string]string{}
	var name string
	var value *string
	if _, err := pgx.ForEachRow(rows, []any{&name, &value}, func() error {
		if value != nil {
			values[name] = *value
		}
		return nil
	}); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	for _, e := range exportedSettings {
		raw, ok := values[e.name]
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("settings: %s is not a number", e.name)
		}
		ch <- prometheus.MustNewConstMetric(e.desc, prometheus.GaugeValue, v)
	}
	return nil
}
