package pprocd

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// The packed form's decoder: a JSON array of results into Go values, the
// values encoding/json gives for an `any` (float64, string, bool, nil,
// []any, map[string]any), in one pass without reflection. It reads the
// JSON the server writes; anything it does not read exactly as
// encoding/json would (a number out of range, a string with escapes, not
// UTF-8, bad JSON) it hands to encoding/json, so both always agree.

// decodeArray decodes data, a JSON array, with capacity for count values.
func decodeArray(data []byte, count int) ([]any, error) {
	d := decoder{data: data}
	values, ok := d.array(count)
	if ok {
		d.space()
		ok = d.pos == len(d.data)
	}
	if ok {
		return values, nil
	}
	// The slow, exact path; its error names what is wrong.
	var decoded any
	if err := json.Unmarshal(data, &decoded); err != nil {
		return nil, err
	}
	list, isList := decoded.([]any)
	if !isList {
		return nil, errors.New("not a JSON array")
	}
	return list, nil
}

// decoder reads one JSON text. A method that returns false met something
// it leaves to encoding/json.
type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value() (any, bool) {
	d.space()
	if d.pos >= len(d.data) {
		return nil, false
	}
	switch c := d.data[d.pos]; {
	case c == '[':
		list, ok := d.array(0)
		return list, ok
	case c == '{':
		return d.object()
	case c == '"':
		return d.string()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 'n':
		return nil, d.literal("null")
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	}
	return nil, false
}

func (d *decoder) literal(word string) bool {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return false
	}
	d.pos += len(word)
	return true
}

// array reads an array, d.pos at its '['.
func (d *decoder) array(capacity int) ([]any, bool) {
	d.space()
	if d.pos >= len(d.data) || d.data[d.pos] != '[' {
		return nil, false
	}
	d.pos++
	list := make([]any, 0, capacity)
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return list, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		list = append(list, v)
		d.space()
		if d.pos >= len(d.data) {
			return nil, false
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return list, true
		default:
			return nil, false
		}
	}
}

// object reads an object, d.pos at its '{'. A repeated key keeps its last
// value, as encoding/json does.
func (d *decoder) object() (any, bool) {
	d.pos++
	fields := map[string]any{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return fields, true
	}
	for {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, false
		}
		key, ok := d.string()
		if !ok {
			return nil, false
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, false
		}
		d.pos++
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		fields[key.(string)] = v
		d.space()
		if d.pos >= len(d.data) {
			return nil, false
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return fields, true
		default:
			return nil, false
		}
	}
}

// string reads a string without escapes, d.pos at its '"'.
func (d *decoder) string() (any, bool) {
	start := d.pos + 1
	ascii := true
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			body := d.data[start:i]
			if !ascii && !utf8.Valid(body) {
				return nil, false
			}
			d.pos = i + 1
			return string(body), true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// number reads a number as a float64, as encoding/json does
// (strconv.ParseFloat of its text), after checking JSON's grammar.
func (d *decoder) number() (any, bool) {
	start, i, n := d.pos, d.pos, len(d.data)
	if i < n && d.data[i] == '-' {
		i++
	}
	digits := i
	if i < n && d.data[i] == '0' {
		i++
	} else {
		for i < n && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	}
	if i == digits {
		return nil, false
	}
	integer := i-digits <= 15 // Exact in a float64, and in an int64.
	if i < n && d.data[i] == '.' {
		integer = false
		i++
		fraction := i
		for i < n && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		if i == fraction {
			return nil, false
		}
	}
	if i < n && (d.data[i] == 'e' || d.data[i] == 'E') {
		integer = false
		i++
		if i < n && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		exponent := i
		for i < n && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		if i == exponent {
			return nil, false
		}
	}
	d.pos = i
	if integer {
		var v int64
		for _, c := range d.data[digits:i] {
			v = v*10 + int64(c-'0')
		}
		if d.data[start] == '-' {
			if v == 0 {
				return negativeZero, true // -0 is a double of its own.
			}
			v = -v
		}
		return float64(v), true
	}
	f, err := strconv.ParseFloat(string(d.data[start:i]), 64)
	if err != nil {
		return nil, false // Out of range: encoding/json's error.
	}
	return f, true
}

var negativeZero = func() float64 { zero := 0.0; return -zero }()
