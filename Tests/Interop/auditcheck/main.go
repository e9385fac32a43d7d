// Command auditcheck verifies a Coffer audit export (docs/AUDIT.md) with code the project did not
// write: golang.org/x/mod/sumdb/note for the signed checkpoints and golang.org/x/mod/sumdb/tlog for
// the RFC 6962 / RFC 9162 tree hashes and proofs (Debian package golang-golang-x-mod-dev).
//
// Usage: auditcheck EXPORT-DIR VERIFIER-KEY-FILE
// Exit status 0 when everything verifies, 1 with one line per problem otherwise.
package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type checkpoint struct {
	size int64
	root tlog.Hash
}

var problems []string

func problem(format string, args ...interface{}) {
	problems = append(problems, fmt.Sprintf(format, args...))
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: auditcheck EXPORT-DIR VERIFIER-KEY-FILE")
		os.Exit(2)
	}
	dir := os.Args[1]
	vkey, err := os.ReadFile(os.Args[2])
	must(err)
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	must(err)

	// Entries: one leaf per line; store the tlog hashes of the whole tree.
	data, err := os.ReadFile(filepath.Join(dir, "entries.jsonl"))
	must(err)
	lines := bytes.Split(data, []byte("\n"))
	lines = lines[:len(lines)-1]
	stored := map[int64]tlog.Hash{}
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, index := range indexes {
			h, ok := stored[index]
			if !ok {
				return nil, fmt.Errorf("missing stored hash %d", index)
			}
			out[i] = h
		}
		return out, nil
	})
	for n, line := range lines {
		if !bytes.Contains(line, []byte(fmt.Sprintf(`"index":%d,`, n))) {
			problem("line %d does not hold entry %d", n+1, n)
		}
		hashes, err := tlog.StoredHashes(int64(n), line, reader)
		must(err)
		for i, h := range hashes {
			stored[tlog.StoredHashIndex(0, int64(n))+int64(i)] = h
		}
	}
	size := int64(len(lines))

	// Checkpoints: signature by the key, origin line, and root recomputed from the entries.
	names, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "*.note"))
	var checkpoints []checkpoint
	for _, name := range names {
		msg, err := os.ReadFile(name)
		must(err)
		n, err := note.Open(msg, note.VerifierList(verifier))
		if err != nil {
			problem("%s: %v", filepath.Base(name), err)
			continue
		}
		fields := strings.Split(n.Text, "\n")
		if len(fields) < 4 || fields[0] != verifier.Name() {
			problem("%s: not a checkpoint of %s", filepath.Base(name), verifier.Name())
			continue
		}
		treeSize, err1 := strconv.ParseInt(fields[1], 10, 64)
		root, err2 := base64.StdEncoding.DecodeString(fields[2])
		if err1 != nil || err2 != nil || len(root) != tlog.HashSize {
			problem("%s: malformed checkpoint", filepath.Base(name))
			continue
		}
		var c checkpoint
		c.size = treeSize
		copy(c.root[:], root)
		checkpoints = append(checkpoints, c)
		if treeSize > size {
			problem("checkpoint %d is beyond the %d entries", treeSize, size)
			continue
		}
		th, err := tlog.TreeHash(treeSize, reader)
		must(err)
		if th != c.root {
			problem("the entries do not produce the root of checkpoint %d", treeSize)
		}
	}
	sort.Slice(checkpoints, func(i, j int) bool { return checkpoints[i].size < checkpoints[j].size })

	// Consistency proofs between successive checkpoints.
	for i := 1; i < len(checkpoints); i++ {
		old, new := checkpoints[i-1], checkpoints[i]
		proof := readHashes(filepath.Join(dir, "proofs", "consistency", fmt.Sprintf("%d-%d.txt", old.size, new.size)))
		if err := tlog.CheckTree(tlog.TreeProof(proof), new.size, new.root, old.size, old.root); err != nil {
			problem("consistency %d-%d: %v", old.size, new.size, err)
		}
	}

	// Inclusion proofs against the newest checkpoint.
	if len(checkpoints) > 0 {
		newest := checkpoints[len(checkpoints)-1]
		text, err := os.ReadFile(filepath.Join(dir, "proofs", "inclusion.txt"))
		must(err)
		count := int64(0)
		for _, line := range strings.Split(strings.TrimSpace(string(text)), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			index, err := strconv.ParseInt(fields[0], 10, 64)
			if err != nil || index < 0 || index >= size {
				problem("malformed inclusion line %q", line)
				continue
			}
			var proof tlog.RecordProof
			for _, f := range fields[1:] {
				proof = append(proof, decodeHash(f))
			}
			if err := tlog.CheckRecord(proof, newest.size, newest.root, index, tlog.RecordHash(lines[index])); err != nil {
				problem("inclusion of entry %d: %v", index, err)
			}
			count++
		}
		if count != newest.size {
			problem("%d inclusion proofs for %d checkpointed entries", count, newest.size)
		}
	} else {
		problem("no checkpoint")
	}

	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Println(p)
		}
		os.Exit(1)
	}
	fmt.Printf("ok: %d entries, %d checkpoints\n", size, len(checkpoints))
}

func readHashes(path string) []tlog.Hash {
	text, err := os.ReadFile(path)
	if err != nil {
		problem("%v", err)
		return nil
	}
	var out []tlog.Hash
	for _, line := range strings.Fields(string(text)) {
		out = append(out, decodeHash(line))
	}
	return out
}

func decodeHash(text string) tlog.Hash {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(raw) != tlog.HashSize {
		problem("malformed hash %q", text)
		return h
	}
	copy(h[:], raw)
	return h
}

func must(err error) {
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
}
