package pprocd

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"pprocd.dev/client/pprocdv1"
)

type tagged struct {
	X    int     `json:"x"`
	Name string  `json:"name,omitempty"`
	F    float64 `json:"f"`
}

// sameInBothForms are inputs of every shape ToValue accepts.
func sameInBothForms() []any {
	var nilSlice []int
	var nilMap map[string]int
	var nilPointer *tagged
	return []any{
		nil, true, false, "", "plain", "héllo ✓ 🙂", "quote \" backslash \\ slash /",
		"\x00\x01\x1f\n\r\t\b\f\x7f", "<&>\u2028\u2029",
		0, -1, 7, int8(-8), int16(300), int32(-70000), int64(1 << 40), uint(5), uint8(255),
		uint16(65535), uint32(1 << 31), uint64(1 << 60), int64(math.MaxInt64), int64(math.MinInt64),
		int64(1<<53 + 1), uint64(math.MaxUint64), uintptr(9),
		0.0, math.Copysign(0, -1), 0.1, -2.5, 1e-7, 1e-6, 123456789.125, 1e20, 1e21, 1e300,
		math.SmallestNonzeroFloat64, math.MaxFloat64, float32(0.1), float32(3.5),
		json.Number("12.5"), json.Number("1e3"),
		[]any{1, "x", nil, []any{true}}, []int{1, 2}, [2]string{"a", "b"}, nilSlice, []any{},
		map[string]any{"a": 1, "b": []any{2.5}}, map[string]int{"k": 1}, nilMap, map[string]any{},
		[]byte("bytes"), tagged{X: 1, F: 0.5}, &tagged{X: 2, Name: "n"}, nilPointer,
		[]tagged{{X: 3}}, map[string]*tagged{"p": {X: 4}},
		structpb.NewNumberValue(4.25), structpb.NewNullValue(), (*structpb.Value)(nil),
		structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewStringValue("s"), structpb.NewBoolValue(true)}}),
		structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"n": structpb.NewNumberValue(1)}}),
	}
}

// Every input the Value form sends arrives the same in the packed form:
// what the server reads from the packed JSON is exactly the
// google.protobuf.Value that ToValue makes.
func TestPackedInputsEqualValueForm(t *testing.T) {
	inputs := sameInBothForms()
	packed, err := appendJSONArray(nil, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(packed) {
		t.Fatalf("not JSON: %s", packed)
	}
	var parsed structpb.ListValue
	if err := protojson.Unmarshal(packed, &parsed); err != nil {
		t.Fatalf("%v: %s", err, packed)
	}
	if len(parsed.Values) != len(inputs) {
		t.Fatalf("%d values, want %d", len(parsed.Values), len(inputs))
	}
	for i, input := range inputs {
		want, err := ToValue(input)
		if err != nil {
			t.Errorf("ToValue(%#v): %v", input, err)
			continue
		}
		if got := parsed.Values[i]; !sameValue(got, want) {
			t.Errorf("input %d (%#v): packed gives %v, the Value form %v", i, input, got, want)
		}
	}
}

// sameValue compares Values, numbers bit for bit (so -0 and rounding
// count).
func sameValue(a, b *structpb.Value) bool {
	switch x := a.GetKind().(type) {
	case *structpb.Value_NumberValue:
		y, ok := b.GetKind().(*structpb.Value_NumberValue)
		return ok && math.Float64bits(x.NumberValue) == math.Float64bits(y.NumberValue)
	case *structpb.Value_ListValue:
		y, ok := b.GetKind().(*structpb.Value_ListValue)
		if !ok || len(x.ListValue.Values) != len(y.ListValue.Values) {
			return false
		}
		for i := range x.ListValue.Values {
			if !sameValue(x.ListValue.Values[i], y.ListValue.Values[i]) {
				return false
			}
		}
		return true
	case *structpb.Value_StructValue:
		y, ok := b.GetKind().(*structpb.Value_StructValue)
		if !ok || len(x.StructValue.Fields) != len(y.StructValue.Fields) {
			return false
		}
		for k, v := range x.StructValue.Fields {
			if !sameValue(v, y.StructValue.Fields[k]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.AsInterface(), b.AsInterface())
}

// Doubles are written with the digits that read back as the same double,
// in plain decimal where encoding/json uses it (integers stay integers).
func TestPackedNumbersReadBackExactly(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1.0 / 3, 2.5e-8, 1e-6, 999999.999, 1 << 53, 1<<53 + 2, 1e21, 1.5e300, -4.9e-324} {
		text := string(appendFloat(nil, f))
		back, err := strconv.ParseFloat(text, 64)
		if err != nil || back != f {
			t.Errorf("%v written %q reads back %v, %v", f, text, back, err)
		}
		want, _ := json.Marshal(f)
		if text != string(want) {
			t.Errorf("%v written %q, encoding/json writes %s", f, text, want)
		}
	}
	if got := string(appendInt(nil, 1<<53+1)); got != "9007199254740992" {
		t.Errorf("2^53+1 written %s, want the double ToValue makes of it", got)
	}
}

// What the Value form refuses before sending, the packed form refuses with
// the same error.
func TestPackedRefusesWhatTheValueFormRefuses(t *testing.T) {
	for _, input := range []any{
		math.NaN(), math.Inf(1), float32(math.Inf(-1)), []any{1, math.NaN()},
		map[string]any{"x": math.Inf(-1)}, map[int]string{1: "a"}, func() {}, make(chan int),
		complex(1, 2), json.Number("x"), struct{ F float64 }{math.NaN()},
	} {
		_, valueErr := ToValue(input)
		_, packedErr := appendJSON(nil, input)
		if valueErr == nil || packedErr == nil || valueErr.Error() != packedErr.Error() {
			t.Errorf("%#v: the Value form says %v, the packed form %v", input, valueErr, packedErr)
		}
	}
	// Beyond what the Value form refuses before sending: a NaN inside a
	// google.protobuf.Value (JSON cannot carry it as a number), and a string
	// that is not UTF-8 (protobuf cannot either).
	for _, input := range []any{structpb.NewNumberValue(math.NaN()), "\xff"} {
		if _, err := appendJSON(nil, input); err == nil || !strings.HasPrefix(err.Error(), "pprocd: cannot send") {
			t.Errorf("%#v: packed form error %v", input, err)
		}
	}
}

// Decoded results have the Go types FromValue gives; NaN and infinities,
// which the server writes as strings, are the strings FromValue gives.
func TestPackedResultsDecodeAsTheValueForm(t *testing.T) {
	values, err := decodeValues([]byte(`[1,2.5,"s",true,null,[1,{"a":"b"}],{},"NaN","-Infinity"]`), 9)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []*structpb.Value{
		structpb.NewNumberValue(1), structpb.NewNumberValue(2.5), structpb.NewStringValue("s"),
		structpb.NewBoolValue(true), structpb.NewNullValue(),
		structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{
			structpb.NewNumberValue(1),
			structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue("b")}}),
		}}),
		structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{}}),
		structpb.NewNumberValue(math.NaN()), structpb.NewNumberValue(math.Inf(-1)),
	} {
		if got := FromValue(want); !reflect.DeepEqual(values[i], got) {
			t.Errorf("value %d: %#v, the Value form gives %#v", i, values[i], got)
		}
	}
	for _, bad := range []struct {
		data  string
		count int
	}{{`[1,2`, 2}, {`[1,2]`, 3}, {`{}`, 0}, {``, 0}} {
		if _, err := decodeValues([]byte(bad.data), bad.count); err == nil {
			t.Errorf("%q as %d values: no error", bad.data, bad.count)
		}
	}
}

func itemResult(index, seq uint64, last bool) *pprocdv1.ItemResult {
	return &pprocdv1.ItemResult{
		Index: index, Seq: seq, Last: last,
		Outcome: &pprocdv1.ItemResult_Error{Error: &pprocdv1.ItemError{Kind: pprocdv1.ErrorKind_ERROR_KIND_RAISED, Message: "no"}},
		Stats:   &pprocdv1.ItemStats{WorkerPid: 9},
	}
}

// One response's failures and blocks come out in index order, each block
// item with its value, Seq 0, Last, its block and the block's stats.
func TestMergeResultsByIndex(t *testing.T) {
	blocks := []*pprocdv1.ResultBlock{
		{FirstIndex: 0, Count: 2, Values: []byte(`[10,11]`), Stats: &pprocdv1.ItemStats{WallUs: 5, WorkerPid: 7}},
		{FirstIndex: 3, Count: 1, Values: []byte(`["x"]`), ItemStats: []*pprocdv1.ItemStats{{WorkerPid: 8}}},
		{FirstIndex: 6, Count: 1, Values: []byte(`[null]`)},
	}
	items := []*pprocdv1.ItemResult{itemResult(2, 0, true), itemResult(4, 0, false), itemResult(4, 1, true), itemResult(5, 0, true)}
	results, err := mergeResults("f", items, blocks)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range results {
		order = append(order, strconv.FormatUint(r.Index, 10)+"."+strconv.FormatUint(r.Seq, 10))
	}
	if got := strings.Join(order, " "); got != "0.0 1.0 2.0 3.0 4.0 4.1 5.0 6.0" {
		t.Fatalf("order %s", got)
	}
	if results[1].Value != 11.0 || !results[1].Last || results[1].Stats != nil || results[1].Block.Stats.WorkerPID != 7 ||
		results[1].Block.FirstIndex != 0 || results[1].Block.Count != 2 || results[0].Block != results[1].Block {
		t.Errorf("block item %+v, block %+v", results[1], results[1].Block)
	}
	if results[3].Value != "x" || results[3].Stats.WorkerPID != 8 {
		t.Errorf("per-item stats: %+v", results[3])
	}
	var itemErr *ItemError
	if r := results[2]; r.Block != nil || r.Stats.WorkerPID != 9 || !errorsAs(r.Err, &itemErr) || itemErr.Index != 2 || itemErr.Callable != "f" {
		t.Errorf("failure %+v", r)
	}
	if results[7].Value != nil || results[7].Err != nil || results[7].Block.Stats != nil {
		t.Errorf("null result %+v", results[7])
	}
	for _, bad := range [][]*pprocdv1.ResultBlock{
		{{FirstIndex: 0, Count: 2, Values: []byte(`[1]`)}},
		{{FirstIndex: 0, Count: 1, Values: []byte(`[1`)}},
		{{FirstIndex: 0, Count: 1, Values: []byte(`[1]`), ItemStats: []*pprocdv1.ItemStats{{}, {}}}},
		{{FirstIndex: 1, Count: 3, Values: []byte(`[1,2,3]`)}},
	} {
		if _, err := mergeResults("f", []*pprocdv1.ItemResult{itemResult(2, 0, true)}, bad); err == nil {
			t.Errorf("block %v: no error", bad[0])
		}
	}
}

func errorsAs(err error, target **ItemError) bool {
	e, ok := err.(*ItemError)
	*target = e
	return ok
}

// The encoder's cost per item beside the Value form's, for a list of
// small integers.
func BenchmarkEncodeInputs(b *testing.B) {
	inputs := make([]any, 4096)
	for i := range inputs {
		inputs[i] = i
	}
	b.Run("packed", func(b *testing.B) {
		var buf []byte
		for i := 0; i < b.N; i++ {
			buf, _ = appendJSONArray(buf[:0], inputs)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inputs)), "ns/item")
	})
	b.Run("value", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			request := &pprocdv1.MapRequest{Inputs: make([]*structpb.Value, len(inputs))}
			for j, input := range inputs {
				request.Inputs[j], _ = ToValue(input)
			}
			protoMarshal(request)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(inputs)), "ns/item")
	})
}

// The decoder's cost per item beside the Value form's.
func BenchmarkDecodeResults(b *testing.B) {
	const n = 4096
	values := []byte("[")
	response := &pprocdv1.MapResponse{}
	for i := 0; i < n; i++ {
		if i > 0 {
			values = append(values, ',')
		}
		values = strconv.AppendInt(values, int64(i), 10)
		response.Results = append(response.Results, &pprocdv1.ItemResult{
			Index: uint64(i), Last: true, Outcome: &pprocdv1.ItemResult_Value{Value: structpb.NewNumberValue(float64(i))},
			Stats: &pprocdv1.ItemStats{WallUs: 3, CpuUs: 2, WorkerPid: 100, StartUnixUs: 1700000000000000},
		})
	}
	values = append(values, ']')
	packed := protoMarshal(&pprocdv1.MapResponse{Blocks: []*pprocdv1.ResultBlock{{Count: n, Values: values, Stats: &pprocdv1.ItemStats{WallUs: 1}}}})
	valueForm := protoMarshal(response)
	for _, form := range []struct {
		name string
		wire []byte
	}{{"packed", packed}, {"value", valueForm}} {
		b.Run(form.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var decoded pprocdv1.MapResponse
				if err := protoUnmarshal(form.wire, &decoded); err != nil {
					b.Fatal(err)
				}
				if _, err := mergeResults("echo", decoded.Results, decoded.Blocks); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
		})
	}
}

func protoMarshal(m proto.Message) []byte {
	data, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return data
}

func protoUnmarshal(data []byte, m proto.Message) error { return proto.Unmarshal(data, m) }
