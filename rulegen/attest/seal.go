package attest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// ManifestName is the evidence directory's sha256 manifest, in
// sha256sum's format (`sha256sum -c SHA256SUMS`).
const ManifestName = "SHA256SUMS"

// Seal signs the evidence in dir: it rewrites the manifest over every
// file under dir (except the manifest and the attestation), adds the
// manifest's digest to v's configuration, and writes the signed
// statement as dir/attestation.intoto.jsonl. Whatever the caller wrote
// into dir before is covered, so write everything first and seal last.
func Seal(ctx context.Context, dir string, v *Verdict, s dsse.Signer) error {
	manifest, err := WriteManifest(dir)
	if err != nil {
		return err
	}
	sealed := *v
	sealed.Configuration = append(append([]Resource(nil), v.Configuration...),
		Resource{Name: ManifestName, SHA256: sum(manifest), Role: RoleManifest})
	line, err := Sign(ctx, &sealed, s)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, FileName), line, 0o644)
}

// WriteManifest writes dir/SHA256SUMS over every file under dir but the
// manifest and the attestation, in path order, and returns its bytes.
func WriteManifest(dir string) ([]byte, error) {
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum(data), name)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestName), b.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// CheckManifest compares dir with its manifest, whose sha256 the signed
// statement holds (want): the manifest itself, every listed file's
// digest, and files that are not listed (not signed). Each problem names
// the file.
func CheckManifest(dir, want string) []string {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", ManifestName, err)}
	}
	if got := sum(data); got != want {
		return []string{fmt.Sprintf("%s: sha256 %s, the attestation signs %s (the manifest was changed)", ManifestName, got, want)}
	}
	var problems []string
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		digest, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(digest) != 64 {
			problems = append(problems, fmt.Sprintf("%s:%d: not a sha256sum line", ManifestName, n))
			continue
		}
		listed[name] = true
		if !fs.ValidPath(name) {
			problems = append(problems, fmt.Sprintf("%s:%d: %q is not a path inside the directory", ManifestName, n, name))
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: listed in %s but unreadable: %v", name, ManifestName, err))
		case sum(got) != digest:
			problems = append(problems, fmt.Sprintf("%s: sha256 %s, %s says %s (the file was changed)", name, sum(got), ManifestName, digest))
		}
	}
	files, err := listFiles(dir)
	if err != nil {
		return append(problems, err.Error())
	}
	for _, name := range files {
		if !listed[name] {
			problems = append(problems, fmt.Sprintf("%s: not in %s, so not signed", name, ManifestName))
		}
	}
	return problems
}

// listFiles lists the files under dir, slash-separated and sorted,
// without the manifest and the attestation at its top.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel != ManifestName && rel != FileName {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// SHA256 is the hex sha256 of data, for configuration entries.
func SHA256(data []byte) string { return sum(data) }
