package pprocd

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/structpb"
)

// The packed form's encoder. appendJSON writes one input as JSON, accepting
// and refusing exactly what ToValue does, with the same errors, so that
// either form sends the server the same values: numbers become doubles
// first (an int64 past ±2^53 arrives as ToValue would round it), NaN and
// infinities are refused, structs go through encoding/json.

// appendJSONArray appends inputs as one JSON array.
func appendJSONArray(buf []byte, inputs []any) ([]byte, error) {
	buf = append(buf, '[')
	for i, input := range inputs {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = appendJSON(buf, input); err != nil {
			return buf, err
		}
	}
	return append(buf, ']'), nil
}

// appendJSON appends v, a value ToValue accepts, as JSON.
func appendJSON(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case *structpb.Value:
		return appendProtoValue(buf, x)
	case bool:
		return strconv.AppendBool(buf, x), nil
	case string:
		return appendString(buf, x)
	case float64:
		return appendNumber(buf, x)
	case float32:
		return appendNumber(buf, float64(x))
	case int:
		return appendInt(buf, int64(x)), nil
	case int8:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(buf, int64(x), 10), nil
	case int64:
		return appendInt(buf, x), nil
	case uint:
		return appendUint(buf, uint64(x)), nil
	case uint8:
		return strconv.AppendUint(buf, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(buf, uint64(x), 10), nil
	case uint32:
		return strconv.AppendUint(buf, uint64(x), 10), nil
	case uint64:
		return appendUint(buf, x), nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return buf, fmt.Errorf("pprocd: cannot send json.Number %q: %w", x, err)
		}
		return appendNumber(buf, f)
	case []any:
		return appendList(buf, len(x), func(i int) any { return x[i] })
	case map[string]any:
		buf = append(buf, '{')
		first := true
		for key, item := range x {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			var err error
			if buf, err = appendString(buf, key); err != nil {
				return buf, err
			}
			buf = append(buf, ':')
			if buf, err = appendJSON(buf, item); err != nil {
				return buf, err
			}
		}
		return append(buf, '}'), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return append(buf, "null"...), nil
		}
		return appendJSON(buf, rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			break // []byte: encoding/json's base64 string, below.
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return append(buf, "null"...), nil
		}
		return appendList(buf, rv.Len(), func(i int) any { return rv.Index(i).Interface() })
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return buf, fmt.Errorf("pprocd: cannot send %T: map keys must be strings", v)
		}
		if rv.IsNil() {
			return append(buf, "null"...), nil
		}
		buf = append(buf, '{')
		entries := rv.MapRange()
		for first := true; entries.Next(); first = false {
			if !first {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendString(buf, entries.Key().String()); err != nil {
				return buf, err
			}
			buf = append(buf, ':')
			if buf, err = appendJSON(buf, entries.Value().Interface()); err != nil {
				return buf, err
			}
		}
		return append(buf, '}'), nil
	case reflect.Bool:
		return strconv.AppendBool(buf, rv.Bool()), nil
	case reflect.String:
		return appendString(buf, rv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return appendInt(buf, rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return appendUint(buf, rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return appendNumber(buf, rv.Float())
	case reflect.Func, reflect.Chan, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return buf, fmt.Errorf("pprocd: cannot send %T: values must be JSON-shaped", v)
	}
	// Structs (and anything with a MarshalJSON): through encoding/json and
	// back, as ToValue does, so both forms accept and round the same.
	encoded, err := json.Marshal(v)
	if err != nil {
		return buf, fmt.Errorf("pprocd: cannot send %T: %w", v, err)
	}
	var decoded any
	if err := json.Unmarshal(encoded, &decoded); err != nil {
		return buf, fmt.Errorf("pprocd: cannot send %T: %w", v, err)
	}
	return appendJSON(buf, decoded)
}

func appendList(buf []byte, n int, at func(int) any) ([]byte, error) {
	buf = append(buf, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = appendJSON(buf, at(i)); err != nil {
			return buf, err
		}
	}
	return append(buf, ']'), nil
}

// appendProtoValue appends a google.protobuf.Value. The Value form would
// send a NaN or infinity in one as a double; JSON has no such number (its
// protobuf mapping writes the string "NaN"), so the packed form refuses it
// rather than send a string where the Value form sends a number.
func appendProtoValue(buf []byte, v *structpb.Value) ([]byte, error) {
	switch kind := v.GetKind().(type) {
	case nil, *structpb.Value_NullValue:
		return append(buf, "null"...), nil
	case *structpb.Value_BoolValue:
		return strconv.AppendBool(buf, kind.BoolValue), nil
	case *structpb.Value_StringValue:
		return appendString(buf, kind.StringValue)
	case *structpb.Value_NumberValue:
		f := kind.NumberValue
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return buf, fmt.Errorf("pprocd: cannot send %v in the packed form: JSON has no such number (the Value form sends it as a double)", f)
		}
		return appendFloat(buf, f), nil
	case *structpb.Value_ListValue:
		values := kind.ListValue.GetValues()
		buf = append(buf, '[')
		for i, item := range values {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendProtoValue(buf, item); err != nil {
				return buf, err
			}
		}
		return append(buf, ']'), nil
	case *structpb.Value_StructValue:
		buf = append(buf, '{')
		first := true
		for key, item := range kind.StructValue.GetFields() {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			var err error
			if buf, err = appendString(buf, key); err != nil {
				return buf, err
			}
			buf = append(buf, ':')
			if buf, err = appendProtoValue(buf, item); err != nil {
				return buf, err
			}
		}
		return append(buf, '}'), nil
	}
	return buf, fmt.Errorf("pprocd: cannot send a google.protobuf.Value of kind %T", v.GetKind())
}

// maxExactInt is 2^53: integers up to it in magnitude are exact doubles.
const maxExactInt = 1 << 53

func appendInt(buf []byte, x int64) []byte {
	if x >= -maxExactInt && x <= maxExactInt {
		return strconv.AppendInt(buf, x, 10)
	}
	return appendFloat(buf, float64(x)) // Rounded, as ToValue rounds it.
}

func appendUint(buf []byte, x uint64) []byte {
	if x <= maxExactInt {
		return strconv.AppendUint(buf, x, 10)
	}
	return appendFloat(buf, float64(x))
}

func appendNumber(buf []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return buf, fmt.Errorf("pprocd: cannot send %v: JSON has no such number", f)
	}
	return appendFloat(buf, f), nil
}

// appendFloat writes a finite double as encoding/json does: integers and
// ordinary magnitudes in plain decimal, the shortest digits that read back
// as the same double, an exponent only below 1e-6 or from 1e21.
func appendFloat(buf []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 becomes 1e-7.
		n := len(buf)
		if n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Strings must be UTF-8, as
// protobuf's string fields must (the Value form fails to send them).
func appendString(buf []byte, s string) ([]byte, error) {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return buf, fmt.Errorf("pprocd: cannot send string %q: not valid UTF-8", s)
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"'), nil
}

// decodeValues decodes a JSON array of count values (any number if count
// is negative), as FromValue gives
// values: float64, string, bool, nil, []any, map[string]any. NaN and the
// infinities come as the strings "NaN", "Infinity" and "-Infinity", as
// FromValue gives them in the Value form.
func decodeValues(data []byte, count int) ([]any, error) {
	values, err := decodeArray(data, max(count, 0))
	if err != nil {
		return nil, fmt.Errorf("packed values: %w", err)
	}
	if count >= 0 && len(values) != count {
		return nil, fmt.Errorf("a block of %d items holds %d values", count, len(values))
	}
	return values, nil
}
