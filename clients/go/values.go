package pprocd

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"

	"google.golang.org/protobuf/types/known/structpb"
)

// ToValue converts a JSON-shaped Go value to a google.protobuf.Value: nil,
// bool, every integer and float type, string, json.Number, slices and arrays
// of such values, maps with string keys, *structpb.Value itself, and, as a
// last resort, anything encoding/json can marshal (structs with json tags).
// Integers beyond ±2^53 do not survive the trip (JSON has one number type);
// NaN and infinities are refused.
func ToValue(v any) (*structpb.Value, error) {
	switch x := v.(type) {
	case nil:
		return structpb.NewNullValue(), nil
	case *structpb.Value:
		if x == nil {
			return structpb.NewNullValue(), nil
		}
		return x, nil
	case bool:
		return structpb.NewBoolValue(x), nil
	case string:
		return structpb.NewStringValue(x), nil
	case float64:
		return numberValue(x)
	case float32:
		return numberValue(float64(x))
	case int:
		return structpb.NewNumberValue(float64(x)), nil
	case int8:
		return structpb.NewNumberValue(float64(x)), nil
	case int16:
		return structpb.NewNumberValue(float64(x)), nil
	case int32:
		return structpb.NewNumberValue(float64(x)), nil
	case int64:
		return structpb.NewNumberValue(float64(x)), nil
	case uint:
		return structpb.NewNumberValue(float64(x)), nil
	case uint8:
		return structpb.NewNumberValue(float64(x)), nil
	case uint16:
		return structpb.NewNumberValue(float64(x)), nil
	case uint32:
		return structpb.NewNumberValue(float64(x)), nil
	case uint64:
		return structpb.NewNumberValue(float64(x)), nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return nil, fmt.Errorf("pprocd: cannot send json.Number %q: %w", x, err)
		}
		return numberValue(f)
	case []any:
		return listValue(len(x), func(i int) any { return x[i] })
	case map[string]any:
		fields := make(map[string]*structpb.Value, len(x))
		for key, item := range x {
			converted, err := ToValue(item)
			if err != nil {
				return nil, err
			}
			fields[key] = converted
		}
		return structpb.NewStructValue(&structpb.Struct{Fields: fields}), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return structpb.NewNullValue(), nil
		}
		return ToValue(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			break // []byte: encoding/json's base64 string, below.
		}
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return structpb.NewNullValue(), nil
		}
		return listValue(rv.Len(), func(i int) any { return rv.Index(i).Interface() })
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("pprocd: cannot send %T: map keys must be strings", v)
		}
		if rv.IsNil() {
			return structpb.NewNullValue(), nil
		}
		fields := make(map[string]*structpb.Value, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			converted, err := ToValue(iter.Value().Interface())
			if err != nil {
				return nil, err
			}
			fields[iter.Key().String()] = converted
		}
		return structpb.NewStructValue(&structpb.Struct{Fields: fields}), nil
	case reflect.Bool:
		return structpb.NewBoolValue(rv.Bool()), nil
	case reflect.String:
		return structpb.NewStringValue(rv.String()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return structpb.NewNumberValue(float64(rv.Int())), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return structpb.NewNumberValue(float64(rv.Uint())), nil
	case reflect.Float32, reflect.Float64:
		return numberValue(rv.Float())
	case reflect.Func, reflect.Chan, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return nil, fmt.Errorf("pprocd: cannot send %T: values must be JSON-shaped", v)
	}
	// Structs (and anything with a MarshalJSON): through encoding/json.
	encoded, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("pprocd: cannot send %T: %w", v, err)
	}
	var decoded any
	if err := json.Unmarshal(encoded, &decoded); err != nil {
		return nil, fmt.Errorf("pprocd: cannot send %T: %w", v, err)
	}
	return ToValue(decoded)
}

func numberValue(f float64) (*structpb.Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("pprocd: cannot send %v: JSON has no such number", f)
	}
	return structpb.NewNumberValue(f), nil
}

func listValue(n int, at func(int) any) (*structpb.Value, error) {
	values := make([]*structpb.Value, n)
	for i := range values {
		converted, err := ToValue(at(i))
		if err != nil {
			return nil, err
		}
		values[i] = converted
	}
	return structpb.NewListValue(&structpb.ListValue{Values: values}), nil
}

// FromValue converts a google.protobuf.Value to plain Go, as encoding/json
// decodes into an `any`: nil, bool, float64, string, []any, map[string]any.
func FromValue(v *structpb.Value) any {
	if v == nil {
		return nil
	}
	return v.AsInterface()
}

// Decode stores a value received from the server in target (a pointer), as
// encoding/json would: Decode(result.Value, &row) with row a []int, a struct
// with json tags, ...
func Decode(value any, target any) error {
	encoded, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("pprocd: decode: %w", err)
	}
	if err := json.Unmarshal(encoded, target); err != nil {
		return fmt.Errorf("pprocd: decode: %w", err)
	}
	return nil
}
