package pprocd_test

// The conformance runner: every scenario of tests/conformance/scenarios.json
// (the format is in tests/conformance/README.md) against a real pprocd.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pprocd "pprocd.dev/client"
)

// scenariosPath is the scenario list, relative to this package.
var scenariosPath = filepath.Join("..", "..", "tests", "conformance", "scenarios.json")

// The format of scenarios.json (see its README). Decoding refuses unknown
// fields, so a misspelt expectation fails instead of passing unchecked.

type scenarioFile struct {
	Format int `json:"format"`
	Server struct {
		Workers int `json:"workers"`
	} `json:"server"`
	Scenarios []scenario `json:"scenarios"`
}

type scenario struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Steps       []step `json:"steps"`
}

type step struct {
	RPC       string          `json:"rpc"`
	Client    string          `json:"client"`
	Callable  string          `json:"callable"`
	Inputs    []any           `json:"inputs"`
	Arguments any             `json:"arguments"`
	Options   *callOptions    `json:"options"`
	Cancel    *cancelSpec     `json:"cancel"`
	Exchange  []exchangeStep  `json:"exchange"`
	Name      string          `json:"name"`
	Ordered   bool            `json:"ordered"`
	Jobs      []string        `json:"jobs"`
	AfterSeq  uint64          `json:"after_seq"`
	Job       string          `json:"job"`
	State     string          `json:"state"`
	Value     json.RawMessage `json:"value"`
	Until     bool            `json:"until"`
	Expect    expectation     `json:"expect"`
}

type callOptions struct {
	Limit          uint32 `json:"limit"`
	Chunksize      uint32 `json:"chunksize"`
	TimeoutMs      uint32 `json:"timeout_ms"`
	Isolation      string `json:"isolation"`
	ExpectedInputs uint64 `json:"expected_inputs"`
}

type cancelSpec struct {
	Indices     []uint64 `json:"indices"`
	WhenRunning uint64   `json:"when_running"`
}

type exchangeStep struct {
	Send    json.RawMessage `json:"send"`
	Receive json.RawMessage `json:"receive"`
	Close   bool            `json:"close"`
	Cancel  bool            `json:"cancel"`
}

type expectation struct {
	Status   *statusPattern           `json:"status"`
	Order    string                   `json:"order"`
	Results  []resultPattern          `json:"results"`
	Messages []any                    `json:"messages"`
	Result   *resultPattern           `json:"result"`
	Job      *jobPattern              `json:"job"`
	Jobs     json.RawMessage          `json:"jobs"`
	FirstSeq *uint64                  `json:"first_seq"`
	Includes []callablePattern        `json:"includes"`
	Fields   map[string]numberPattern `json:"fields"`
	Delta    map[string]numberPattern `json:"delta"`
	Value    json.RawMessage          `json:"value"`
}

type statusPattern struct {
	Code            string `json:"code"`
	MessageContains string `json:"message_contains"`
}

type resultPattern struct {
	Index  *uint64         `json:"index"`
	Seq    *uint64         `json:"seq"`
	Last   *bool           `json:"last"`
	Value  json.RawMessage `json:"value"`
	Error  *errorPattern   `json:"error"`
	Stats  bool            `json:"stats"`
	Stdout *string         `json:"stdout"`
	Stderr *string         `json:"stderr"`
}

type errorPattern struct {
	Kind            string `json:"kind"`
	Signal          string `json:"signal"`
	ExitCode        *int   `json:"exit_code"`
	MessageContains string `json:"message_contains"`
	StderrContains  string `json:"stderr_contains"`
}

type jobPattern struct {
	Name       *string `json:"name"`
	State      string  `json:"state"`
	Callable   *string `json:"callable"`
	ItemsDone  *uint64 `json:"items_done"`
	ItemsTotal *uint64 `json:"items_total"`
	Attempts   *uint32 `json:"attempts"`
	Error      *string `json:"error"`
}

type jobStreamPattern struct {
	Order   string          `json:"order"`
	Results []resultPattern `json:"results"`
	Final   *jobPattern     `json:"final"`
}

type callablePattern struct {
	Name       string              `json:"name"`
	Kind       string              `json:"kind"`
	Origin     *string             `json:"origin"`
	Parameters *[]parameterPattern `json:"parameters"`
}

type parameterPattern struct {
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Required *bool           `json:"required"`
	Default  json.RawMessage `json:"default"`
}

// numberPattern is an exact number, or {"min": A, "max": B} (either bound
// may be left out).
type numberPattern struct {
	Exact    *float64
	Min, Max *float64
}

func (p *numberPattern) UnmarshalJSON(data []byte) error {
	var exact float64
	if err := json.Unmarshal(data, &exact); err == nil {
		p.Exact = &exact
		return nil
	}
	var bounds struct {
		Min *float64 `json:"min"`
		Max *float64 `json:"max"`
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&bounds); err != nil {
		return fmt.Errorf("a number or {\"min\", \"max\"}: %w", err)
	}
	p.Min, p.Max = bounds.Min, bounds.Max
	return nil
}

func (p numberPattern) matches(v float64) bool {
	if p.Exact != nil && v != *p.Exact {
		return false
	}
	if p.Min != nil && v < *p.Min {
		return false
	}
	if p.Max != nil && v > *p.Max {
		return false
	}
	return true
}

func (p numberPattern) String() string {
	if p.Exact != nil {
		return fmt.Sprint(*p.Exact)
	}
	var parts []string
	if p.Min != nil {
		parts = append(parts, fmt.Sprintf(">= %v", *p.Min))
	}
	if p.Max != nil {
		parts = append(parts, fmt.Sprintf("<= %v", *p.Max))
	}
	return strings.Join(parts, " and ")
}

func decodeStrict(data []byte, target any) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	return decoder.Decode(target)
}

func loadScenarios(t *testing.T) scenarioFile {
	t.Helper()
	data, err := os.ReadFile(scenariosPath)
	if err != nil {
		t.Fatalf("reading the scenario list: %v", err)
	}
	var file scenarioFile
	if err := decodeStrict(data, &file); err != nil {
		t.Fatalf("%s: %v", scenariosPath, err)
	}
	if file.Format != 1 {
		t.Fatalf("%s: format %d; this runner reads format 1", scenariosPath, file.Format)
	}
	names := map[string]bool{}
	for _, s := range file.Scenarios {
		if s.Name == "" || names[s.Name] {
			t.Fatalf("%s: scenario name %q is empty or repeated", scenariosPath, s.Name)
		}
		names[s.Name] = true
	}
	return file
}

// TestScenarioListIsWellFormed needs no server: the list parses, and every
// scenario names known RPCs.
func TestScenarioListIsWellFormed(t *testing.T) {
	file := loadScenarios(t)
	if len(file.Scenarios) == 0 {
		t.Fatal("no scenarios")
	}
	for _, s := range file.Scenarios {
		for i, st := range s.Steps {
			if _, ok := stepRunners[st.RPC]; !ok {
				t.Errorf("%s step %d: unknown rpc %q", s.Name, i, st.RPC)
			}
		}
	}
}

// The forms of items a conformance run uses: the packed form (the
// client's default) and the Value form.
var forms = []string{"packed", "value"}

// TestConformance runs every scenario, in order, once in each form of items
// on a server of its own, then checks that both forms gave the same
// outcome in every step: values, error kinds and messages, statuses.
func TestConformance(t *testing.T) {
	file := loadScenarios(t)
	if os.Getenv(binaryEnv) == "" {
		t.Skipf("$%s is not set: point it at a built pprocd (ctest sets it; e.g. build/server/pprocd)", binaryEnv)
	}
	transcripts := map[string]map[string][]string{}
	blocks := map[string]*int{}
	for _, form := range forms {
		transcripts[form] = map[string][]string{}
		blocks[form] = new(int)
		t.Run(form, func(t *testing.T) {
			srv := startServer(t, file.Server.Workers)
			client := srv.dial(t)
			if form == "value" {
				client = client.WithValueForm()
			}
			for _, sc := range file.Scenarios {
				t.Run(sc.Name, func(t *testing.T) {
					if !srv.alive() {
						t.Fatalf("pprocd is not running; stderr:\n%s", srv.stderrText())
					}
					r := &runner{t: t, srv: srv, client: client, valueForm: form == "value", jobIDs: map[string]string{}, blocks: blocks[form]}
					defer func() { transcripts[form][sc.Name] = r.transcript }()
					r.before = r.waitIdle()
					for i, st := range sc.Steps {
						r.step = fmt.Sprintf("step %d (%s)", i, st.RPC)
						stepRunners[st.RPC](r, st)
						if t.Failed() {
							break
						}
					}
					if !srv.alive() {
						t.Fatalf("pprocd died during this scenario; stderr:\n%s", srv.stderrText())
					}
				})
			}
		})
	}
	// Each run used its form: successes came in blocks in the packed form
	// only.
	if *blocks["packed"] == 0 || *blocks["value"] != 0 {
		t.Errorf("results in blocks: %d in the packed form, %d in the Value form", *blocks["packed"], *blocks["value"])
	}
	t.Run("same in both forms", func(t *testing.T) {
		packed, value := transcripts["packed"], transcripts["value"]
		for _, sc := range file.Scenarios {
			p, ranPacked := packed[sc.Name]
			v, ranValue := value[sc.Name]
			if !ranPacked || !ranValue {
				t.Errorf("%s: did not run in both forms", sc.Name)
				continue
			}
			for i := 0; i < len(p) || i < len(v); i++ {
				var pl, vl string
				if i < len(p) {
					pl = p[i]
				}
				if i < len(v) {
					vl = v[i]
				}
				if pl != vl {
					t.Errorf("%s: the forms differ:\npacked: %s\nvalue:  %s", sc.Name, pl, vl)
					break
				}
			}
		}
	})
}

type runner struct {
	t      *testing.T
	srv    *server
	client *pprocd.Client
	// The Value form of items (else the packed form).
	valueForm bool
	step      string
	before    *pprocd.Status
	jobIDs    map[string]string
	// What each step gave, a line each, to compare the two forms.
	transcript []string
	// How many results of this form's run came in blocks.
	blocks *int
}

// workerPID is a worker's pid in a message: it differs from run to run.
var workerPID = regexp.MustCompile(`worker \d+`)

// countBlocks counts the results that came in blocks.
func (r *runner) countBlocks(results []pprocd.Result) {
	for _, result := range results {
		if result.Block != nil {
			*r.blocks++
		}
	}
}

// record adds a line to the transcript, prefixed with the step.
func (r *runner) record(format string, args ...any) {
	line := workerPID.ReplaceAllString(fmt.Sprintf(format, args...), "worker PID")
	r.transcript = append(r.transcript, r.step+": "+line)
}

// recordStatus records a step's error as its code and message.
func (r *runner) recordStatus(err error) {
	if err == nil {
		r.record("OK")
		return
	}
	st, _ := status.FromError(err)
	r.record("status %s: %s", codeName(st.Code()), st.Message())
}

// recordResults records results, in their order (order "" or "input") or
// sorted (when their order depends on timing).
func (r *runner) recordResults(what, order string, results []pprocd.Result) {
	lines := make([]string, len(results))
	for i, result := range results {
		lines[i] = describeOutcome(result)
	}
	if order != "" && order != "input" {
		sort.Strings(lines)
	}
	for _, line := range lines {
		r.record("%s %s", what, line)
	}
}

// describeOutcome is everything of a result both forms must agree on.
func describeOutcome(result pprocd.Result) string {
	var stdout, stderr []byte
	for _, record := range result.Logs {
		if record.Stream == pprocd.Stdout {
			stdout = append(stdout, record.Data...)
		} else {
			stderr = append(stderr, record.Data...)
		}
	}
	outcome := "value " + jsonText(result.Value)
	if result.Data != nil {
		outcome = fmt.Sprintf("data %q", result.Data)
	}
	var itemErr *pprocd.ItemError
	if errors.As(result.Err, &itemErr) {
		outcome = fmt.Sprintf("error %s %q signal %q exit %d callable %q index %d",
			itemErr.Kind, itemErr.Message, itemErr.Signal, itemErr.ExitCode, itemErr.Callable, itemErr.Index)
	} else if result.Err != nil {
		outcome = "error " + result.Err.Error()
	}
	return fmt.Sprintf("index %d seq %d last %v %s stdout %q stderr %q",
		result.Index, result.Seq, result.Last, outcome, stdout, stderr)
}

func (r *runner) errorf(format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("%s: %s", r.step, fmt.Sprintf(format, args...))
}

func (r *runner) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*eventLimit)
}

// clientFor is the shared client, or for a step with "client": "own" a
// connection of its own, closed after the step.
func (r *runner) clientFor(st step) (*pprocd.Client, func()) {
	switch st.Client {
	case "":
		return r.client, func() {}
	case "own":
		ctx, cancel := r.ctx()
		defer cancel()
		own, err := pprocd.Dial(ctx, r.srv.address)
		if err != nil {
			r.t.Fatalf("%s: %v", r.step, err)
		}
		if r.valueForm {
			return own.WithValueForm(), func() { own.Close() }
		}
		return own, func() { own.Close() }
	}
	r.t.Fatalf("%s: unknown client %q", r.step, st.Client)
	return nil, nil
}

func (r *runner) status() *pprocd.Status {
	ctx, cancel := r.ctx()
	defer cancel()
	s, err := r.client.Status(ctx)
	if err != nil {
		r.t.Fatalf("GetStatus: %v", err)
	}
	return s
}

// waitIdle waits until nothing runs, waits or is open, and returns the
// status then.
func (r *runner) waitIdle() *pprocd.Status {
	deadline := time.Now().Add(eventLimit)
	for {
		s := r.status()
		if s.ItemsRunning == 0 && s.ItemsQueued == 0 && s.CallsActive == 0 {
			return s
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("gave up waiting for an idle server: %+v", *s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (st step) options() *pprocd.Options {
	if st.Options == nil {
		return nil
	}
	o := &pprocd.Options{
		Limit:          st.Options.Limit,
		Chunksize:      st.Options.Chunksize,
		Timeout:        time.Duration(st.Options.TimeoutMs) * time.Millisecond,
		ExpectedInputs: st.Options.ExpectedInputs,
	}
	switch st.Options.Isolation {
	case "", "POOLED":
	case "FRESH":
		o.Isolation = pprocd.Fresh
	default:
		panic("unknown isolation " + st.Options.Isolation)
	}
	return o
}

var stepRunners map[string]func(*runner, step)

func init() {
	stepRunners = map[string]func(*runner, step){
		"Map":           (*runner).runCall,
		"Queue":         (*runner).runCall,
		"Start":         (*runner).runStart,
		"Submit":        (*runner).runSubmit,
		"Reconnect":     (*runner).runReconnect,
		"GetJob":        (*runner).runJobRPC,
		"CancelJob":     (*runner).runJobRPC,
		"DeleteJob":     (*runner).runJobRPC,
		"ListJobs":      (*runner).runListJobs,
		"ListCallables": (*runner).runListCallables,
		"GetStatus":     (*runner).runGetStatus,
		"Echo":          (*runner).runEcho,
	}
}

// checkStatus compares a step's error with its expected status (none: OK);
// it returns false when the step failed, expectedly or not.
func (r *runner) checkStatus(want *statusPattern, err error) bool {
	r.t.Helper()
	code, message := codes.OK, ""
	if err != nil {
		st, ok := status.FromError(err)
		if !ok {
			r.errorf("error without a gRPC status: %v", err)
			return false
		}
		code, message = st.Code(), st.Message()
	}
	wantCode := codes.OK
	if want != nil {
		if err := wantCode.UnmarshalJSON([]byte(`"` + want.Code + `"`)); err != nil {
			r.errorf("bad expected status code %q", want.Code)
			return false
		}
	}
	if code != wantCode {
		r.errorf("status %s (%q), want %s", codeName(code), message, codeName(wantCode))
		return false
	}
	if want != nil && !strings.Contains(message, want.MessageContains) {
		r.errorf("status message %q does not contain %q", message, want.MessageContains)
	}
	return err == nil
}

// codeName is a code's canonical name, e.g. NOT_FOUND.
func codeName(c codes.Code) string {
	for name, code := range map[string]codes.Code{
		"OK": codes.OK, "CANCELLED": codes.Canceled, "UNKNOWN": codes.Unknown,
		"INVALID_ARGUMENT": codes.InvalidArgument, "DEADLINE_EXCEEDED": codes.DeadlineExceeded,
		"NOT_FOUND": codes.NotFound, "ALREADY_EXISTS": codes.AlreadyExists,
		"PERMISSION_DENIED": codes.PermissionDenied, "RESOURCE_EXHAUSTED": codes.ResourceExhausted,
		"FAILED_PRECONDITION": codes.FailedPrecondition, "ABORTED": codes.Aborted,
		"OUT_OF_RANGE": codes.OutOfRange, "UNIMPLEMENTED": codes.Unimplemented,
		"INTERNAL": codes.Internal, "UNAVAILABLE": codes.Unavailable, "DATA_LOSS": codes.DataLoss,
		"UNAUTHENTICATED": codes.Unauthenticated,
	} {
		if code == c {
			return name
		}
	}
	return c.String()
}

// Map and Queue.
func (r *runner) runCall(st step) {
	client, done := r.clientFor(st)
	defer done()
	ctx, cancel := r.ctx()
	defer cancel()
	var results []pprocd.Result
	var callErr error
	collect := func(result pprocd.Result, err error) {
		var itemErr *pprocd.ItemError
		if err != nil && !errors.As(err, &itemErr) {
			callErr = err
			return
		}
		results = append(results, result)
	}
	if st.Cancel == nil {
		run := client.Map
		if st.RPC == "Queue" {
			run = client.Queue
		}
		for result, err := range run(ctx, st.Callable, pprocd.Values(st.Inputs), st.options()) {
			collect(result, err)
		}
	} else {
		open := client.OpenMap
		if st.RPC == "Queue" {
			open = client.OpenQueue
		}
		call, err := open(ctx, st.Callable, st.options())
		if err == nil {
			_, err = call.Send(st.Inputs...)
		}
		if err != nil {
			callErr = err
		} else {
			r.waitStatus(func(s *pprocd.Status) bool { return s.ItemsRunning >= st.Cancel.WhenRunning },
				fmt.Sprintf("%d items running", st.Cancel.WhenRunning))
			if err := call.Cancel(st.Cancel.Indices...); err != nil && !errors.Is(err, io.EOF) {
				r.errorf("Cancel: %v", err)
			}
			if err := call.CloseSend(); err != nil && !errors.Is(err, io.EOF) {
				r.errorf("CloseSend: %v", err)
			}
			for result, err := range call.Results() {
				collect(result, err)
			}
		}
	}
	r.recordStatus(callErr)
	r.recordResults("result", st.Expect.Order, results)
	r.countBlocks(results)
	if !r.checkStatus(st.Expect.Status, callErr) {
		return
	}
	r.checkResults("results", st.Expect.Order, st.Expect.Results, results)
}

func (r *runner) waitStatus(holds func(*pprocd.Status) bool, what string) {
	deadline := time.Now().Add(eventLimit)
	for {
		s := r.status()
		if holds(s) {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: gave up waiting for %s: %+v", r.step, what, *s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkResults compares results with patterns: in the same order ("input"),
// in order within each input ("per_input"), or as a set ("any").
func (r *runner) checkResults(what, order string, patterns []resultPattern, results []pprocd.Result) {
	r.t.Helper()
	if len(results) != len(patterns) {
		r.errorf("%s: %d results, want %d: %s", what, len(results), len(patterns), describeResults(results))
		return
	}
	switch order {
	case "", "input":
		for i := range results {
			if problems := patterns[i].mismatches(results[i]); len(problems) > 0 {
				r.errorf("%s[%d]: %s", what, i, strings.Join(problems, "; "))
			}
		}
	case "per_input":
		byIndex := map[uint64][]pprocd.Result{}
		for _, result := range results {
			byIndex[result.Index] = append(byIndex[result.Index], result)
		}
		wanted := map[uint64][]resultPattern{}
		for _, p := range patterns {
			if p.Index == nil {
				r.errorf("%s: order per_input needs an index in every pattern", what)
				return
			}
			wanted[*p.Index] = append(wanted[*p.Index], p)
		}
		for index, want := range wanted {
			got := byIndex[index]
			if len(got) != len(want) {
				r.errorf("%s: input %d: %d results, want %d: %s", what, index, len(got), len(want), describeResults(got))
				continue
			}
			for i := range got {
				if problems := want[i].mismatches(got[i]); len(problems) > 0 {
					r.errorf("%s: input %d, result %d: %s", what, index, i, strings.Join(problems, "; "))
				}
			}
		}
	case "any":
		used := make([]bool, len(patterns))
	next:
		for _, result := range results {
			for i, p := range patterns {
				if !used[i] && len(p.mismatches(result)) == 0 {
					used[i] = true
					continue next
				}
			}
			r.errorf("%s: no expected result matches %s", what, describeResults([]pprocd.Result{result}))
		}
	default:
		r.errorf("unknown order %q", order)
	}
}

func describeResults(results []pprocd.Result) string {
	parts := make([]string, len(results))
	for i, result := range results {
		outcome := fmt.Sprintf("value %s", jsonText(result.Value))
		if result.Err != nil {
			outcome = "error " + result.Err.Error()
		}
		parts[i] = fmt.Sprintf("{index %d seq %d last %v %s}", result.Index, result.Seq, result.Last, outcome)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func jsonText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// sameJSON compares a received value with an expected one written in JSON.
func sameJSON(want json.RawMessage, got any) bool {
	var expected any
	if err := json.Unmarshal(want, &expected); err != nil {
		return false
	}
	return reflect.DeepEqual(expected, got)
}

func (p resultPattern) mismatches(result pprocd.Result) []string {
	var out []string
	if p.Index != nil && result.Index != *p.Index {
		out = append(out, fmt.Sprintf("index %d, want %d", result.Index, *p.Index))
	}
	if p.Seq != nil && result.Seq != *p.Seq {
		out = append(out, fmt.Sprintf("seq %d, want %d", result.Seq, *p.Seq))
	}
	if p.Last != nil && result.Last != *p.Last {
		out = append(out, fmt.Sprintf("last %v, want %v", result.Last, *p.Last))
	}
	if p.Value != nil {
		if result.Err != nil {
			out = append(out, fmt.Sprintf("error %v, want value %s", result.Err, p.Value))
		} else if !sameJSON(p.Value, result.Value) {
			out = append(out, fmt.Sprintf("value %s, want %s", jsonText(result.Value), p.Value))
		}
	}
	if p.Error != nil {
		var itemErr *pprocd.ItemError
		if !errors.As(result.Err, &itemErr) {
			out = append(out, fmt.Sprintf("value %s, want an error %s", jsonText(result.Value), p.Error.Kind))
		} else {
			out = append(out, p.Error.mismatches(itemErr)...)
		}
	}
	// A success in a block with per-chunk stats (the packed form's default)
	// has its block's.
	stats := result.Stats
	if stats == nil && result.Block != nil {
		stats = result.Block.Stats
	}
	if p.Stats && (stats == nil || stats.WorkerPID <= 0) {
		out = append(out, "no stats (with the worker's pid)")
	}
	for _, stream := range []struct {
		name string
		want *string
		of   pprocd.Stream
	}{{"stdout", p.Stdout, pprocd.Stdout}, {"stderr", p.Stderr, pprocd.Stderr}} {
		if stream.want == nil {
			continue
		}
		var got []byte
		for _, record := range result.Logs {
			if record.Stream == stream.of {
				got = append(got, record.Data...)
			}
		}
		if string(got) != *stream.want {
			out = append(out, fmt.Sprintf("%s %q, want %q", stream.name, got, *stream.want))
		}
	}
	return out
}

func (p errorPattern) mismatches(e *pprocd.ItemError) []string {
	var out []string
	if p.Kind != "" && e.Kind.String() != p.Kind {
		out = append(out, fmt.Sprintf("error kind %s, want %s (%v)", e.Kind, p.Kind, e))
	}
	if p.Kind != "" {
		sentinels := map[string]error{
			"RAISED": pprocd.ErrRaised, "CRASHED": pprocd.ErrCrashed, "TIMED_OUT": pprocd.ErrTimedOut,
			"CANCELLED": pprocd.ErrCancelled, "INVALID_ARGUMENT": pprocd.ErrInvalidArgument,
			"MEMORY_LIMIT": pprocd.ErrMemoryLimit, "CPU_LIMIT": pprocd.ErrCPULimit,
		}
		if sentinel, ok := sentinels[p.Kind]; ok && !errors.Is(e, sentinel) {
			out = append(out, fmt.Sprintf("errors.Is(err, the %s sentinel) is false", p.Kind))
		}
	}
	if p.Signal != "" && e.Signal != p.Signal {
		out = append(out, fmt.Sprintf("signal %q, want %q", e.Signal, p.Signal))
	}
	if p.ExitCode != nil && e.ExitCode != *p.ExitCode {
		out = append(out, fmt.Sprintf("exit code %d, want %d", e.ExitCode, *p.ExitCode))
	}
	if !strings.Contains(e.Message, p.MessageContains) {
		out = append(out, fmt.Sprintf("message %q does not contain %q", e.Message, p.MessageContains))
	}
	if !strings.Contains(e.StderrTail, p.StderrContains) {
		out = append(out, fmt.Sprintf("stderr tail %q does not contain %q", e.StderrTail, p.StderrContains))
	}
	return out
}

// Start.
func (r *runner) runStart(st step) {
	client, done := r.clientFor(st)
	defer done()
	ctx, cancel := r.ctx()
	defer cancel()
	ch, err := client.Start(ctx, st.Callable, st.Arguments, st.options())
	if err != nil {
		r.recordStatus(err)
		r.checkStatus(st.Expect.Status, err)
		return
	}
	closed := false
	for i, x := range st.Exchange {
		switch {
		case x.Send != nil:
			var value any
			json.Unmarshal(x.Send, &value)
			if err := ch.Send(value); err != nil {
				r.errorf("exchange %d: Send: %v", i, err)
				return
			}
		case x.Receive != nil:
			got, err := ch.Recv()
			if err != nil {
				r.errorf("exchange %d: Recv: %v, want %s", i, err, x.Receive)
				return
			}
			r.record("received %s", jsonText(got))
			if !sameJSON(x.Receive, got) {
				r.errorf("exchange %d: received %s, want %s", i, jsonText(got), x.Receive)
			}
		case x.Close:
			ch.CloseSend()
			closed = true
		case x.Cancel:
			ch.Cancel()
			closed = true
		default:
			r.errorf("exchange %d: nothing to do", i)
		}
	}
	if !closed {
		ch.CloseSend()
	}
	var messages []any
	var end error
	for {
		message, err := ch.Recv()
		if err != nil {
			end = err
			break
		}
		messages = append(messages, message)
	}
	var itemErr *pprocd.ItemError
	var callErr error
	if !errors.Is(end, io.EOF) && !errors.As(end, &itemErr) {
		callErr = end
	}
	r.record("then received %s", jsonText(messages))
	r.recordStatus(callErr)
	if callErr == nil {
		result, _ := ch.Result()
		r.record("result %s", describeOutcome(result))
	}
	if !r.checkStatus(st.Expect.Status, callErr) {
		return
	}
	if st.Expect.Messages != nil || messages != nil {
		if !reflect.DeepEqual(append([]any{}, messages...), append([]any{}, st.Expect.Messages...)) {
			r.errorf("messages %s, want %s", jsonText(messages), jsonText(st.Expect.Messages))
		}
	}
	result, err := ch.Result()
	if itemErr != nil && err != itemErr {
		r.errorf("Result's error %v differs from Recv's %v", err, itemErr)
	}
	if st.Expect.Result != nil {
		if problems := st.Expect.Result.mismatches(result); len(problems) > 0 {
			r.errorf("result: %s", strings.Join(problems, "; "))
		}
	}
}

// Submit, from a process of its own for "client": "own".
func (r *runner) runSubmit(st step) {
	request := submitRequest{Callable: st.Callable, Inputs: st.Inputs, Name: st.Name, Ordered: st.Ordered}
	if o := st.options(); o != nil {
		request.Options = *o
	}
	request.Options.ValueForm = r.valueForm
	var job *pprocd.Job
	var err error
	switch st.Client {
	case "":
		ctx, cancel := r.ctx()
		defer cancel()
		job, err = r.client.Submit(ctx, request.Callable, request.Inputs, request.submitOptions())
	case "own":
		job, err = r.submitFromAnotherProcess(request)
	default:
		r.t.Fatalf("%s: unknown client %q", r.step, st.Client)
	}
	r.recordStatus(err)
	if job != nil {
		r.record("job %q %s %s %d", job.Name, job.State, job.Callable, job.ItemsTotal)
	}
	if !r.checkStatus(st.Expect.Status, err) {
		return
	}
	if st.Name != "" {
		r.jobIDs[st.Name] = job.ID
	}
	if st.Expect.Job != nil {
		r.checkJob("job", *st.Expect.Job, job)
	}
}

func (r *runner) checkJob(what string, want jobPattern, job *pprocd.Job) {
	r.t.Helper()
	if job == nil {
		r.errorf("%s: no job", what)
		return
	}
	var problems []string
	if want.Name != nil && job.Name != *want.Name {
		problems = append(problems, fmt.Sprintf("name %q, want %q", job.Name, *want.Name))
	}
	if want.State != "" && strings.TrimPrefix(job.State.String(), "JOB_STATE_") != want.State {
		problems = append(problems, fmt.Sprintf("state %s, want %s", job.State, want.State))
	}
	if want.Callable != nil && job.Callable != *want.Callable {
		problems = append(problems, fmt.Sprintf("callable %q, want %q", job.Callable, *want.Callable))
	}
	if want.ItemsDone != nil && job.ItemsDone != *want.ItemsDone {
		problems = append(problems, fmt.Sprintf("items_done %d, want %d", job.ItemsDone, *want.ItemsDone))
	}
	if want.ItemsTotal != nil && job.ItemsTotal != *want.ItemsTotal {
		problems = append(problems, fmt.Sprintf("items_total %d, want %d", job.ItemsTotal, *want.ItemsTotal))
	}
	if want.Attempts != nil && job.Attempts != *want.Attempts {
		problems = append(problems, fmt.Sprintf("attempts %d, want %d", job.Attempts, *want.Attempts))
	}
	if want.Error != nil && job.Error != *want.Error {
		problems = append(problems, fmt.Sprintf("error %q, want %q", job.Error, *want.Error))
	}
	if len(problems) > 0 {
		r.errorf("%s %s: %s", what, job.ID, strings.Join(problems, "; "))
	}
}

// Reconnect.
func (r *runner) runReconnect(st step) {
	client, done := r.clientFor(st)
	defer done()
	ctx, cancel := r.ctx()
	defer cancel()
	var wanted map[string]jobStreamPattern
	if st.Expect.Jobs != nil {
		if err := decodeStrict(st.Expect.Jobs, &wanted); err != nil {
			r.errorf("expect.jobs: %v", err)
			return
		}
	}
	// Outputs name jobs by id: find each named job's.
	nameOf := map[string]string{}
	for _, name := range st.Jobs {
		id, ok := r.jobIDs[name]
		if !ok {
			job, err := client.GetJob(ctx, name)
			if err != nil {
				r.errorf("GetJob %q: %v", name, err)
				return
			}
			id = job.ID
		}
		nameOf[id] = name
	}
	outputs := map[string][]pprocd.JobOutput{}
	var callErr error
	for output, err := range client.Reconnect(ctx, st.Jobs, &pprocd.ReconnectOptions{AfterSeq: st.AfterSeq}) {
		if err != nil {
			callErr = err
			break
		}
		name, ok := nameOf[output.JobID]
		if !ok {
			r.errorf("an output of job %q, which was not asked for", output.JobID)
			continue
		}
		outputs[name] = append(outputs[name], output)
	}
	r.recordStatus(callErr)
	for _, name := range st.Jobs {
		var results []pprocd.Result
		for _, output := range outputs[name] {
			if output.Result != nil {
				results = append(results, *output.Result)
			}
		}
		order := "any"
		if want, ok := wanted[name]; ok && (want.Order == "" || want.Order == "input") {
			order = "input"
		}
		r.recordResults("job "+name, order, results)
		r.countBlocks(results)
		if n := len(outputs[name]); n > 0 && outputs[name][n-1].Job != nil {
			final := outputs[name][n-1].Job
			r.record("job %s ends %s %d of %d %q", name, final.State, final.ItemsDone, final.ItemsTotal, final.Error)
		}
	}
	if !r.checkStatus(st.Expect.Status, callErr) {
		return
	}
	for _, name := range st.Jobs {
		got := outputs[name]
		// Structure: seqs run on from after_seq without gap or repeat, the
		// last output is the job in a final state.
		for i, output := range got {
			if output.Seq != st.AfterSeq+uint64(i)+1 {
				r.errorf("job %s: output %d has seq %d, want %d", name, i, output.Seq, st.AfterSeq+uint64(i)+1)
				break
			}
			if (output.Result == nil) == (output.Job == nil) {
				r.errorf("job %s: output %d is neither a result nor a job", name, i)
			}
		}
		if len(got) == 0 {
			r.errorf("job %s: no outputs", name)
			continue
		}
		if st.Expect.FirstSeq != nil && got[0].Seq != *st.Expect.FirstSeq {
			r.errorf("job %s: first seq %d, want %d", name, got[0].Seq, *st.Expect.FirstSeq)
		}
		last := got[len(got)-1]
		if last.Job == nil || !last.Job.Done() || last.Progress {
			r.errorf("job %s: the last output is not the job in a final state", name)
			continue
		}
		want, ok := wanted[name]
		if !ok {
			continue
		}
		var results []pprocd.Result
		for _, output := range got {
			if output.Result != nil {
				results = append(results, *output.Result)
			}
		}
		if want.Results != nil {
			r.checkResults("job "+name, want.Order, want.Results, results)
		}
		if want.Final != nil {
			r.checkJob("job "+name+" final", *want.Final, last.Job)
		}
	}
	for name := range wanted {
		if _, ok := nameOf[r.jobIDs[name]]; !ok && !contains(st.Jobs, name) {
			r.errorf("expect.jobs names %q, which the step does not reconnect to", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// GetJob, CancelJob, DeleteJob.
func (r *runner) runJobRPC(st step) {
	client, done := r.clientFor(st)
	defer done()
	ctx, cancel := r.ctx()
	defer cancel()
	var job *pprocd.Job
	var err error
	switch st.RPC {
	case "GetJob":
		job, err = client.GetJob(ctx, st.Job)
	case "CancelJob":
		job, err = client.CancelJob(ctx, st.Job)
	case "DeleteJob":
		err = client.DeleteJob(ctx, st.Job)
	}
	r.recordStatus(err)
	if job != nil {
		r.record("job %q %s %d of %d", job.Name, job.State, job.ItemsDone, job.ItemsTotal)
	}
	if !r.checkStatus(st.Expect.Status, err) {
		return
	}
	if st.Expect.Job != nil {
		r.checkJob(st.RPC, *st.Expect.Job, job)
	}
}

func (r *runner) runListJobs(st step) {
	ctx, cancel := r.ctx()
	defer cancel()
	filter := pprocd.JobFilter{Name: st.Name}
	if st.State != "" {
		filter.State = pprocd.JobState(jobStateValue(st.State))
		if filter.State == 0 {
			r.errorf("unknown state %q", st.State)
			return
		}
	}
	var jobs []*pprocd.Job
	var err error
	for job, e := range r.client.ListJobs(ctx, filter) {
		if e != nil {
			err = e
			break
		}
		jobs = append(jobs, job)
	}
	if !r.checkStatus(st.Expect.Status, err) {
		return
	}
	var want []jobPattern
	if st.Expect.Jobs != nil {
		if err := decodeStrict(st.Expect.Jobs, &want); err != nil {
			r.errorf("expect.jobs: %v", err)
			return
		}
	}
	if len(jobs) != len(want) {
		r.errorf("%d jobs, want %d", len(jobs), len(want))
		return
	}
	for i := range jobs {
		r.checkJob(fmt.Sprintf("jobs[%d]", i), want[i], jobs[i])
	}
}

func jobStateValue(name string) int32 {
	for _, state := range []pprocd.JobState{pprocd.JobQueued, pprocd.JobRunning, pprocd.JobSucceeded,
		pprocd.JobFailed, pprocd.JobCancelled, pprocd.JobInterrupted} {
		if strings.TrimPrefix(state.String(), "JOB_STATE_") == name {
			return int32(state)
		}
	}
	return 0
}

func (r *runner) runListCallables(st step) {
	ctx, cancel := r.ctx()
	defer cancel()
	callables, err := r.client.ListCallables(ctx)
	if !r.checkStatus(st.Expect.Status, err) {
		return
	}
	byName := map[string]pprocd.Callable{}
	for _, c := range callables {
		byName[c.Name] = c
	}
	for _, want := range st.Expect.Includes {
		got, ok := byName[want.Name]
		if !ok {
			names := make([]string, 0, len(byName))
			for name := range byName {
				names = append(names, name)
			}
			sort.Strings(names)
			r.errorf("no callable %q among %v", want.Name, names)
			continue
		}
		if want.Kind != "" && strings.ToUpper(got.Kind.String()) != want.Kind {
			r.errorf("%s: kind %s, want %s", want.Name, got.Kind, want.Kind)
		}
		if want.Origin != nil && got.Origin != *want.Origin {
			r.errorf("%s: origin %q, want %q", want.Name, got.Origin, *want.Origin)
		}
		if want.Parameters == nil {
			continue
		}
		params := *want.Parameters
		if len(got.Parameters) != len(params) {
			r.errorf("%s: %d parameters, want %d", want.Name, len(got.Parameters), len(params))
			continue
		}
		for i, p := range params {
			g := got.Parameters[i]
			if g.Name != p.Name {
				r.errorf("%s: parameter %d is %q, want %q", want.Name, i, g.Name, p.Name)
			}
			if p.Type != "" && strings.ToUpper(g.Type) != p.Type {
				r.errorf("%s.%s: type %s, want %s", want.Name, p.Name, g.Type, p.Type)
			}
			if p.Required != nil && g.Required != *p.Required {
				r.errorf("%s.%s: required %v, want %v", want.Name, p.Name, g.Required, *p.Required)
			}
			if p.Default != nil && !sameJSON(p.Default, g.Default) {
				r.errorf("%s.%s: default %s, want %s", want.Name, p.Name, jsonText(g.Default), p.Default)
			}
		}
	}
}

// statusFields are GetStatus's fields by their names in the contract.
func statusFields(s *pprocd.Status) map[string]float64 {
	return map[string]float64{
		"workers_idle":       float64(s.WorkersIdle),
		"workers_busy":       float64(s.WorkersBusy),
		"workers_starting":   float64(s.WorkersStarting),
		"items_queued":       float64(s.ItemsQueued),
		"items_running":      float64(s.ItemsRunning),
		"items_completed":    float64(s.ItemsCompleted),
		"items_failed":       float64(s.ItemsFailed),
		"items_crashed":      float64(s.ItemsCrashed),
		"workers_respawned":  float64(s.WorkersRespawned),
		"uptime_ms":          float64(s.Uptime.Milliseconds()),
		"calls_active":       float64(s.CallsActive),
		"workers_configured": float64(s.WorkersConfigured),
		"workers_recycled":   float64(s.WorkersRecycled),
		"callable_reloads":   float64(s.CallableReloads),
	}
}

func (r *runner) statusMismatches(st step, s *pprocd.Status) []string {
	now, before := statusFields(s), statusFields(r.before)
	var out []string
	check := func(kind string, want map[string]numberPattern, value func(string) float64) {
		names := make([]string, 0, len(want))
		for name := range want {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if _, ok := now[name]; !ok {
				out = append(out, fmt.Sprintf("no status field %q", name))
				continue
			}
			if got := value(name); !want[name].matches(got) {
				out = append(out, fmt.Sprintf("%s %s is %v, want %v", kind, name, got, want[name]))
			}
		}
	}
	check("field", st.Expect.Fields, func(name string) float64 { return now[name] })
	check("change of", st.Expect.Delta, func(name string) float64 { return now[name] - before[name] })
	return out
}

// GetStatus: its fields now, and their change since the scenario began;
// with "until", polled until they hold.
func (r *runner) runGetStatus(st step) {
	deadline := time.Now().Add(eventLimit)
	for {
		problems := r.statusMismatches(st, r.status())
		if len(problems) == 0 {
			return
		}
		if !st.Until || time.Now().After(deadline) {
			r.errorf("%s", strings.Join(problems, "; "))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *runner) runEcho(st step) {
	ctx, cancel := r.ctx()
	defer cancel()
	var value any
	if err := json.Unmarshal(st.Value, &value); err != nil {
		r.errorf("value: %v", err)
		return
	}
	got, err := r.client.Echo(ctx, value)
	if !r.checkStatus(st.Expect.Status, err) {
		return
	}
	if st.Expect.Value != nil && !sameJSON(st.Expect.Value, got) {
		r.errorf("echoed %s, want %s", jsonText(got), st.Expect.Value)
	}
}

// A Submit from a process of its own: the test binary again, which submits,
// prints the job and exits before the job is reconnected to.

const submitHelperEnv = "PPROCD_CONFORMANCE_SUBMIT"

type submitRequest struct {
	Address  string         `json:"address"`
	Callable string         `json:"callable"`
	Inputs   []any          `json:"inputs"`
	Options  pprocd.Options `json:"options"`
	Name     string         `json:"name"`
	Ordered  bool           `json:"ordered"`
}

func (s submitRequest) submitOptions() *pprocd.SubmitOptions {
	return &pprocd.SubmitOptions{Options: s.Options, Name: s.Name, Ordered: s.Ordered}
}

type submitReply struct {
	Job     *pprocd.Job `json:"job"`
	Code    codes.Code  `json:"code"`
	Message string      `json:"message"`
}

func (r *runner) submitFromAnotherProcess(request submitRequest) (*pprocd.Job, error) {
	request.Address = r.srv.address
	encoded, _ := json.Marshal(request)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), submitHelperEnv+"="+string(encoded))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("%s: the submitting process failed: %v\n%s", r.step, err, stderr.String())
	}
	var reply submitReply
	if err := json.Unmarshal(out, &reply); err != nil {
		r.t.Fatalf("%s: the submitting process printed %q: %v", r.step, out, err)
	}
	if reply.Code != codes.OK {
		return nil, status.Error(reply.Code, reply.Message)
	}
	return reply.Job, nil
}

// submitHelper is the submitting process's work.
func submitHelper(encoded string) int {
	var request submitRequest
	if err := json.Unmarshal([]byte(encoded), &request); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventLimit)
	defer cancel()
	client, err := pprocd.Dial(ctx, request.Address)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer client.Close()
	var reply submitReply
	reply.Job, err = client.Submit(ctx, request.Callable, request.Inputs, request.submitOptions())
	if err != nil {
		st, _ := status.FromError(err)
		reply.Code, reply.Message = st.Code(), st.Message()
	}
	json.NewEncoder(os.Stdout).Encode(reply)
	return 0
}

func TestMain(m *testing.M) {
	if request := os.Getenv(submitHelperEnv); request != "" {
		os.Exit(submitHelper(request))
	}
	os.Exit(m.Run())
}
