// Package postgres collects the PostgreSQL signals the platform's own
// instrumentation cannot see: dead tuples, sequence exhaustion, sequences
// that fell behind their column, clock skew and connection use.
//
// A Target is one PostgreSQL server. It discovers the connectable
// databases on every scrape, keeps one small pgx pool per database (opened
// on first use, closed when the database disappears) and runs the enabled
// collectors under the scrape's deadline. Every query is set-based (one per
// database and signal) and runs with statement_timeout and lock_timeout, so
// a scrape never queues behind a table lock. The one slow signal, the
// sequence-behind-column check, runs on a TTL cache in the background.
package postgres
