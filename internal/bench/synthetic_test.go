package bench

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redline-sre/redline/internal/testenv"
)

func TestBuildSmallShape(t *testing.T) {
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	shape := Shape{Databases: 2, Schemas: 2, TablesPerSchema: 5, RowsPerTable: 20}
	if err := Build(ctx, pg.DSN, shape); err != nil {
		t.Fatal(err)
	}
	for _, db := range shape.DatabaseNames() {
		conn, err := pgx.Connect(ctx, pg.DSN(db))
		if err != nil {
			t.Fatal(err)
		}
		var tables, sequences int
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_tables WHERE schemaname LIKE 's%'),
			(SELECT count(*) FROM pg_sequences WHERE schemaname LIKE 's%')`).Scan(&tables, &sequences); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		if want := shape.Schemas * shape.TablesPerSchema; tables != want || sequences != want {
			t.Errorf("%s: %d tables, %d sequences; want %d of each", db, tables, sequences, want)
		}
	}
}
