package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/crmaccess/access"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Pos is a place in a model file; lines and columns count from 1.
type Pos struct {
	Line, Col int
}

// Error is a problem found at a place in a model file. It unwraps to the
// cause, which wraps [access.ErrInvalid] for a file that breaks the
// format's rules.
type Error struct {
	File string
	Pos  Pos
	Err  error
}

// Error renders the error as "model.yaml:12:7: message", leaving out what
// is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Col)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ReadFile reads and parses the model file at path. See [Parse].
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// IsJSON reports whether the file name says JSON rather than YAML.
func IsJSON(name string) bool { return strings.HasSuffix(strings.ToLower(name), ".json") }

// Parse decodes a model file: JSON when name ends in .json, YAML
// otherwise. It checks the document's shape (unknown keys, wrong types),
// not its references; [File.Batch] does that. Errors are [*Error]s naming
// name, line and column, and wrap [access.ErrInvalid].
func Parse(name string, data []byte) (*File, error) {
	f := &File{name: name}
	var err error
	if IsJSON(name) {
		err = f.parseJSON(data)
	} else {
		err = f.parseYAML(data)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) parseYAML(data []byte) (err error) {
	// go-yaml v1.19.2 panics on some malformed input (a nil dereference
	// in decodeSlice, found by FuzzParse); a bad file must be an error.
	defer func() {
		if p := recover(); p != nil {
			err = &Error{File: f.name, Err: fmt.Errorf("%w: the YAML library could not read the file: %v", access.ErrInvalid, p)}
		}
	}()
	ast, err := parser.ParseBytes(data, 0)
	if err != nil {
		return f.yamlError(err)
	}
	if err := yaml.NodeToValue(docBody(ast), f, yaml.DisallowUnknownField()); err != nil {
		return f.yamlError(err)
	}
	f.pos = map[string]Pos{}
	walkYAML(docBody(ast), "", f.pos)
	return nil
}

// docBody returns the body of the file's one document, or a null node.
func docBody(file *ast.File) ast.Node {
	for _, d := range file.Docs {
		if d.Body != nil {
			return d.Body
		}
	}
	return ast.Null(nil)
}

// yamlError turns a go-yaml error into an *Error with its position and
// the message without the source excerpt go-yaml adds.
func (f *File) yamlError(err error) error {
	var re *refError
	if errors.As(err, &re) {
		return &Error{File: f.name, Pos: re.pos, Err: fmt.Errorf("%w: %v", access.ErrInvalid, re.err)}
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		var p Pos
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			p = Pos{tk.Position.Line, tk.Position.Column}
		}
		return &Error{File: f.name, Pos: p, Err: fmt.Errorf("%w: %s", access.ErrInvalid, ye.GetMessage())}
	}
	return &Error{File: f.name, Err: fmt.Errorf("%w: %v", access.ErrInvalid, err)}
}

// walkYAML records where every mapping value and sequence item starts.
func walkYAML(n ast.Node, path string, out map[string]Pos) {
	if n == nil {
		return
	}
	// A mapping's own token is its first ':'; a reader looks for its
	// first key.
	first := n
	switch m := n.(type) {
	case *ast.MappingNode:
		if len(m.Values) > 0 {
			first = m.Values[0].Key
		}
	case *ast.MappingValueNode:
		first = m.Key
	}
	if tk := first.GetToken(); tk != nil && tk.Position != nil {
		if _, ok := out[path]; !ok {
			out[path] = Pos{tk.Position.Line, tk.Position.Column}
		}
	}
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, v := range n.Values {
			walkYAML(v, path, out)
		}
	case *ast.MappingValueNode:
		key := n.Key.GetToken().Value
		if s, ok := n.Key.(*ast.StringNode); ok {
			key = s.Value
		}
		p := join(path, key)
		// A value's position is its key's, where a reader looks first.
		if tk := n.Key.GetToken(); tk != nil && tk.Position != nil {
			out[p] = Pos{tk.Position.Line, tk.Position.Column}
		}
		walkYAML(n.Value, p, out)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			walkYAML(v, path+"["+strconv.Itoa(i)+"]", out)
		}
	case *ast.TagNode:
		walkYAML(n.Value, path, out)
	case *ast.AnchorNode:
		walkYAML(n.Value, path, out)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (f *File) parseJSON(data []byte) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(f); err != nil {
		off := d.InputOffset()
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		msg := strings.TrimPrefix(err.Error(), "json: ")
		switch {
		case errors.As(err, &se):
			off = se.Offset - 1 // Offset counts the bad byte
		case errors.As(err, &te):
			// te.Offset is where the bad value ends: report its start.
			off = valueStart(data, te.Offset)
		case errors.Is(err, io.EOF):
			msg = "empty document"
		case strings.HasPrefix(msg, "unknown field "):
			// The error carries no offset; the key is the last one of
			// that name before where the decoder stopped.
			key := strings.TrimPrefix(msg, "unknown field ")
			if i := bytes.LastIndex(data[:min(int(off), len(data))], []byte(key)); i >= 0 {
				off = int64(i)
			}
		}
		return &Error{File: f.name, Pos: offsetPos(data, off), Err: fmt.Errorf("%w: %s", access.ErrInvalid, msg)}
	}
	off := skipSpace(data, d.InputOffset())
	if _, err := d.Token(); err != io.EOF {
		return &Error{File: f.name, Pos: offsetPos(data, off), Err: fmt.Errorf("%w: data after the document", access.ErrInvalid)}
	}
	spans := map[string][2]int64{}
	// The document decoded, so the walk cannot meet bad syntax.
	_ = walkJSON(json.NewDecoder(bytes.NewReader(data)), data, "", spans)
	f.pos = make(map[string]Pos, len(spans))
	for p, sp := range spans {
		f.pos[p] = offsetPos(data, sp[0])
	}
	return nil
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n,:", data[off]) >= 0 {
		off++
	}
	return off
}

// valueStart returns where the JSON value that ends at end starts: of
// the values that end there (a list and its last item, say), the
// outermost one.
func valueStart(data []byte, end int64) int64 {
	spans := map[string][2]int64{}
	_ = walkJSON(json.NewDecoder(bytes.NewReader(data)), data, "", spans)
	best := [2]int64{-1, -1}
	for _, sp := range spans {
		if sp[1] <= end && (sp[1] > best[1] || sp[1] == best[1] && sp[0] < best[0]) {
			best = sp
		}
	}
	return max(best[0], 0)
}

// walkJSON records where every value starts and ends, reading d's tokens.
func walkJSON(d *json.Decoder, data []byte, path string, out map[string][2]int64) error {
	start := skipSpace(data, d.InputOffset())
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return err
			}
			key, _ := k.(string)
			if err := walkJSON(d, data, join(path, key), out); err != nil {
				return err
			}
		}
		_, err = d.Token()
	case json.Delim('['):
		for i := 0; d.More(); i++ {
			if err := walkJSON(d, data, path+"["+strconv.Itoa(i)+"]", out); err != nil {
				return err
			}
		}
		_, err = d.Token()
	}
	out[path] = [2]int64{start, d.InputOffset()}
	return err
}

// offsetPos converts a byte offset into a line and a column counted in
// characters.
func offsetPos(data []byte, off int64) Pos {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return Pos{line, utf8.RuneCount(before[start:]) + 1}
}

// at returns an *Error placed at path (or the nearest enclosing path the
// file has a position for), wrapping access.ErrInvalid.
func (f *File) at(path, format string, args ...any) error {
	return &Error{File: f.name, Pos: f.position(path), Err: fmt.Errorf("%w: "+format, append([]any{access.ErrInvalid}, args...)...)}
}

// position finds path, or the closest enclosing path, in the file.
func (f *File) position(path string) Pos {
	for path != "" {
		if p, ok := f.pos[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return f.pos[""]
}

// Name returns the file name errors are reported against.
func (f *File) Name() string { return f.name }

// Position returns where path (such as "tests[3]") is in the file, or the
// zero Pos when the file was not parsed from source.
func (f *File) Position(path string) Pos { return f.position(path) }
