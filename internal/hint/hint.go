// Package hint holds the did-you-mean of unknown keys, shared by the
// rulegen spec loader and the exporter's config parser so both suggest
// the same way.
package hint

import "strings"

// Closest returns the known key nearest to key when it is close enough to
// be a typo: at most a third of its letters differ (two at least), or one
// is the other with a prefix or suffix (treshold, histogram_name). "" when
// none is.
func Closest(key string, known []string) string {
	best, bestD := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(key), k)
		if bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	if bestD <= max(2, len(key)/3) {
		return best
	}
	for _, k := range known {
		if len(k) >= 4 && (strings.Contains(key, k) || strings.Contains(k, key) && len(key) >= 4) {
			return k
		}
	}
	return ""
}

// editDistance is the Levenshtein distance of two strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
