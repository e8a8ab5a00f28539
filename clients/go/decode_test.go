package pprocd

import (
	"encoding/json"
	"math"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// decodesAsEncodingJSON checks that decodeArray gives exactly what
// encoding/json gives for an `any`, or fails where it fails.
func decodesAsEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	var want any
	wantErr := json.Unmarshal(data, &want)
	if _, isList := want.([]any); wantErr == nil && !isList {
		wantErr = errNotList
	}
	got, err := decodeArray(data, 0)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("%q: error %v, encoding/json's %v", data, err, wantErr)
	}
	if err == nil && !sameDecoded(got, want) {
		t.Fatalf("%q: %#v, encoding/json gives %#v", data, got, want)
	}
}

var errNotList = strconv.ErrSyntax

// sameDecoded is reflect.DeepEqual with numbers compared bit for bit.
func sameDecoded(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameDecoded(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameDecoded(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

var decoderCases = []string{
	`[]`, ` [ ] `, `[1]`, `[0,-0,-0.0,1.5,-2e3,1E-7,123456789012345,1234567890123456,12345678901234567890,9007199254740993]`,
	`[1e400]`, `[-1e400]`, `[1e-400]`, `[01]`, `[1.]`, `[.5]`, `[1e]`, `[-]`, `[+1]`, `[0x10]`, `[Infinity]`, `[NaN]`,
	`["","a","héllo ✓ 🙂","NaN","Infinity"]`, `["\n\t\"\\\/\u00e9\ud83d\ude00\ud800"]`, "[\"\xff\"]", "[\"a\x01\"]",
	`[true,false,null]`, `[tru]`, `[nul]`, `[[[]],[1,[2,[3]]]]`, `[{},{"a":1,"b":[{}],"a":2}]`, `[{"a" 1}]`, `[{1:2}]`,
	`[{"a":1,}]`, `[1,]`, `[1 2]`, `[1]]`, `[1] x`, `[`, ``, `{}`, `"s"`, `null`, `[{"\u0061":"\u0062"}]`,
	"[\"é\",{\"ключ\":\"значение\"}]", `[ 1 , { "a" : [ null ] } ]`,
}

func TestDecodeArrayAsEncodingJSON(t *testing.T) {
	for _, c := range decoderCases {
		decodesAsEncodingJSON(t, []byte(c))
	}
}

// Random JSON-ish texts built from pieces the decoder treats specially.
func TestDecodeArrayRandomAsEncodingJSON(t *testing.T) {
	pieces := []string{"[", "]", "{", "}", ",", ":", `"k"`, `"é"`, `"\n"`, "0", "-", "1", ".", "5", "e", "+",
		"null", "true", " ", `"`, "\xff", "123456789012345678"}
	random := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		b.WriteString("[")
		for j := random.Intn(12); j > 0; j-- {
			b.WriteString(pieces[random.Intn(len(pieces))])
		}
		b.WriteString("]")
		decodesAsEncodingJSON(t, []byte(b.String()))
	}
}

func FuzzDecodeArray(f *testing.F) {
	for _, c := range decoderCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { decodesAsEncodingJSON(t, data) })
}
