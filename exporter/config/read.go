package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/redline-sre/redline/exporter/dsn"
)

// Bounds on what a load reads, so that no file makes a check, a start or a
// reload block or take more than a few MB: a config file of this schema is
// a few KB, a DSN or URL a few hundred bytes.
const (
	// MaxConfigBytes bounds the config file: room for a thousand targets.
	MaxConfigBytes = 256 << 10
	// MaxSecretBytes bounds a dsn_file, --*.dsn-file or --eventloop.url-file.
	MaxSecretBytes = 64 << 10
	// ReadTimeout bounds reading one file (a hung network mount).
	ReadTimeout = 5 * time.Second
)

// readFile reads the regular file at path, at most limit bytes, within
// ReadTimeout. A FIFO, a device (/dev/zero) or a directory is refused
// before any byte is read: a FIFO would block the load until a writer came,
// a device could be read forever. The error names the file through
// dsn.Name (a DSN put where a file name belongs keeps its password) and
// never holds the file's content.
func readFile(path string, limit int64) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := readRegular(path, limit)
		done <- result{b, err}
	}()
	timer := time.NewTimer(ReadTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			// b holds the first limit+1 bytes of a file too large.
			return r.b, fmt.Errorf("cannot read %s: %w", dsn.Name(path), r.err)
		}
		return r.b, nil
	case <-timer.C:
		// The reading goroutine ends with the read; it holds one file.
		return nil, fmt.Errorf("cannot read %s: no answer within %s", dsn.Name(path), ReadTimeout)
	}
}

// errTooLarge is a file over its bound; readFile then returns the bytes up
// to one past it.
var errTooLarge = errors.New("larger than")

func readRegular(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO for reading would wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, pathless(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, pathless(err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fileType(fi.Mode()))
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, pathless(err)
	}
	if int64(len(b)) > limit {
		return b, fmt.Errorf("%w %d bytes", errTooLarge, limit)
	}
	return b, nil
}

// pathless drops the *fs.PathError wrapper, which repeats the path as
// given (the caller names the file, redacted).
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "not a plain file"
	}
}
