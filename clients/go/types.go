package pprocd

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"pprocd.dev/client/pprocdv1"
)

// Isolation chooses where each invocation runs.
type Isolation int

const (
	// Pooled: long-lived pooled workers run input after input (the default).
	Pooled Isolation = iota
	// Fresh: every invocation in a brand-new process forked from the
	// server's template.
	Fresh
)

// Options of a call (Map, Queue, Start, Submit). The zero value is the
// server's defaults.
type Options struct {
	// Items of this call running at once; 0: the pool's size.
	Limit uint32
	// Items per hop to a worker; 0: automatic.
	Chunksize uint32
	// Per item (for Start: the whole invocation); 0: none. An item past it
	// has its worker killed and fails with ErrTimedOut. Rounded up to a
	// millisecond.
	Timeout   time.Duration
	Isolation Isolation
	// A hint: how many inputs the call will have (0: unknown).
	ExpectedInputs uint64
	// Which resource figures come with successful results (failed ones
	// always have theirs). StatsDefault: StatsPerChunk in the packed form,
	// StatsPerItem in the Value form.
	ItemStats ItemStatsMode
	// Send inputs and read results in the Value form, one
	// google.protobuf.Value per item, instead of the packed form (JSON
	// arrays and blocks of results). Both give the same values; the packed
	// form costs far less per item. Client.WithValueForm sets it for every
	// call.
	ValueForm bool
}

// ItemStatsMode chooses which resource figures (Stats) come with
// successful results.
type ItemStatsMode int

const (
	// StatsDefault: StatsPerChunk in the packed form, StatsPerItem in the
	// Value form.
	StatsDefault ItemStatsMode = iota
	// StatsPerItem: every result has its own Stats.
	StatsPerItem
	// StatsPerChunk: successes that came in one block share its totals
	// (Result.Block.Stats) and have no Stats of their own. In the Value
	// form, which has no blocks, the same as StatsPerItem.
	StatsPerChunk
	// StatsNone: no figures for successes.
	StatsNone
)

// proto is the call's options for the server; packed selects the packed
// form.
func (o *Options) proto(packed bool) *pprocdv1.CallOptions {
	if o == nil {
		if !packed {
			return nil
		}
		return &pprocdv1.CallOptions{Packed: true}
	}
	out := &pprocdv1.CallOptions{
		Limit:          o.Limit,
		Chunksize:      o.Chunksize,
		ExpectedInputs: o.ExpectedInputs,
		ItemStats:      pprocdv1.ItemStatsMode(o.ItemStats),
		Packed:         packed,
	}
	if o.Timeout > 0 {
		out.TimeoutMs = uint32((o.Timeout + time.Millisecond - 1) / time.Millisecond)
	}
	if o.Isolation == Fresh {
		out.Isolation = pprocdv1.Isolation_ISOLATION_FRESH
	}
	return out
}

// Result is one result of one input. A function callable gives one per
// input (Seq 0, Last); a channel callable (continuous Map and Queue) gives
// one per value it sends, then its final one (its return value, or its
// error) with Last set.
type Result struct {
	// The input's position in its call, from 0.
	Index uint64
	// The result's position among its input's results, from 0.
	Seq uint64
	// True on the input's final result.
	Last bool
	// The value (JSON-shaped, as FromValue gives it); nil for null, an
	// error or binary data.
	Value any
	// A binary result, for callables that return bytes.
	Data []byte
	// The input's failure, an *ItemError; nil on success.
	Err error
	// Resources used; on an input's last result only (see
	// Options.ItemStats).
	Stats *Stats
	// For a success that came in a block of results (the packed form), the
	// block: with StatsPerChunk (the packed form's default) its Stats are
	// the block's totals. Shared by the block's results; nil otherwise.
	Block *Block
	// What the invocation wrote to stdout and stderr since its previous
	// result.
	Logs []LogRecord
}

// Block is a run of consecutive successful results that a packed call
// received together.
type Block struct {
	// Its first input's index, and how many it holds.
	FirstIndex uint64
	Count      int
	// With StatsPerChunk: wall and CPU time summed over its items, the
	// largest peak RSS, the worker pid and start time of its first item.
	Stats *Stats
}

// Stats are the resources one invocation used.
type Stats struct {
	Wall      time.Duration
	CPU       time.Duration
	MaxRSSKiB uint64
	WorkerPID int
	StartedAt time.Time
}

// Stream says which standard stream a callable wrote to.
type Stream int

const (
	StreamUnspecified Stream = iota
	Stdout
	Stderr
)

func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return "unspecified"
}

// LogRecord is output a callable wrote to one stream: at most 64 KiB per
// result and stream, the first and last 32 KiB, the rest counted in
// DroppedBytes.
type LogRecord struct {
	Stream       Stream
	Data         []byte
	DroppedBytes uint64
}

func logsFrom(records []*pprocdv1.LogRecord) []LogRecord {
	if len(records) == 0 {
		return nil
	}
	out := make([]LogRecord, len(records))
	for i, r := range records {
		out[i] = LogRecord{Stream: Stream(r.GetStream()), Data: r.GetData(), DroppedBytes: r.GetDroppedBytes()}
	}
	return out
}

func statsFrom(s *pprocdv1.ItemStats) *Stats {
	if s == nil {
		return nil
	}
	return &Stats{
		Wall:      time.Duration(s.GetWallUs()) * time.Microsecond,
		CPU:       time.Duration(s.GetCpuUs()) * time.Microsecond,
		MaxRSSKiB: s.GetMaxRssKib(),
		WorkerPID: int(s.GetWorkerPid()),
		StartedAt: time.UnixMicro(int64(s.GetStartUnixUs())),
	}
}

func resultFrom(callable string, r *pprocdv1.ItemResult) Result {
	out := Result{
		Index: r.GetIndex(),
		Seq:   r.GetSeq(),
		Last:  r.GetLast(),
		Stats: statsFrom(r.GetStats()),
		Logs:  logsFrom(r.GetLogs()),
	}
	switch outcome := r.GetOutcome().(type) {
	case *pprocdv1.ItemResult_Value:
		out.Value = FromValue(outcome.Value)
	case *pprocdv1.ItemResult_Data:
		out.Data = outcome.Data
	case *pprocdv1.ItemResult_Error:
		out.Err = itemErrorFrom(callable, r.GetIndex(), outcome.Error)
	}
	return out
}

// JobState is the life of a background job.
type JobState = pprocdv1.JobState

// The states of a background job.
const (
	JobQueued      = pprocdv1.JobState_JOB_STATE_QUEUED
	JobRunning     = pprocdv1.JobState_JOB_STATE_RUNNING
	JobSucceeded   = pprocdv1.JobState_JOB_STATE_SUCCEEDED
	JobFailed      = pprocdv1.JobState_JOB_STATE_FAILED
	JobCancelled   = pprocdv1.JobState_JOB_STATE_CANCELLED
	JobInterrupted = pprocdv1.JobState_JOB_STATE_INTERRUPTED
)

// Job is a background job (Submit).
type Job struct {
	ID   string
	Name string
	// JobQueued, JobRunning, JobSucceeded, ...
	State JobState
	// Inputs whose final result is stored, of ItemsTotal.
	ItemsDone  uint64
	ItemsTotal uint64
	Callable   string
	// Why the job failed or was interrupted.
	Error      string
	Attempts   uint32
	MaxRetries uint32
	// The sequence number of its last stored output.
	LastSeq uint64
	// The uid that submitted it; -1 over TCP.
	OwnerUID   int64
	SocketPath string
	Created    time.Time
	// When the current (or last) attempt started; zero before.
	Started time.Time
	// When it ended; zero while it has not.
	Ended time.Time
}

// Done reports whether the job is in a final state.
func (j *Job) Done() bool {
	switch j.State {
	case JobSucceeded, JobFailed, JobCancelled, JobInterrupted:
		return true
	}
	return false
}

func timeFrom(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func jobFrom(j *pprocdv1.Job) *Job {
	if j == nil {
		return nil
	}
	return &Job{
		ID:         j.GetId(),
		Name:       j.GetName(),
		State:      j.GetState(),
		ItemsDone:  j.GetItemsDone(),
		ItemsTotal: j.GetItemsTotal(),
		Callable:   j.GetCallable(),
		Error:      j.GetError(),
		Attempts:   j.GetAttempts(),
		MaxRetries: j.GetMaxRetries(),
		LastSeq:    j.GetLastSeq(),
		OwnerUID:   j.GetOwnerUid(),
		SocketPath: j.GetSocketPath(),
		Created:    timeFrom(j.GetCreateTime()),
		Started:    timeFrom(j.GetStartTime()),
		Ended:      timeFrom(j.GetEndTime()),
	}
}

// CallableKind says whether a callable returns one value or talks over a
// channel.
type CallableKind int

const (
	KindUnknownCallable CallableKind = iota
	// Function: returns one value per invocation.
	Function
	// Channel: may send many values and receive messages.
	ChannelCallable
)

func (k CallableKind) String() string {
	switch k {
	case Function:
		return "function"
	case ChannelCallable:
		return "channel"
	}
	return "unspecified"
}

// Parameter is one declared parameter of a callable.
type Parameter struct {
	Name string
	// "any", "integer", "number", "string", "boolean", "list" or "struct".
	Type        string
	Description string
	Required    bool
	// The default of an optional parameter.
	Default any
}

// Callable is a registered callable, as ListCallables describes it.
type Callable struct {
	Name        string
	Kind        CallableKind
	Description string
	// "builtin", a plugin path, or a command.
	Origin     string
	Parameters []Parameter
	// Resource limits (zero: none).
	Limits CallableLimits
}

// CallableLimits are the resource limits of a callable (zero: none).
type CallableLimits struct {
	MaxMemoryMiB  uint64
	CPUSeconds    uint32
	MaxOpenFiles  uint32
	Timeout       time.Duration
	MaxConcurrent uint32
}

func callableFrom(c *pprocdv1.Callable) Callable {
	out := Callable{
		Name:        c.GetName(),
		Description: c.GetDescription(),
		Origin:      c.GetOrigin(),
		Limits: CallableLimits{
			MaxMemoryMiB:  c.GetLimits().GetMaxMemoryMib(),
			CPUSeconds:    c.GetLimits().GetCpuSeconds(),
			MaxOpenFiles:  c.GetLimits().GetMaxOpenFiles(),
			Timeout:       time.Duration(c.GetLimits().GetTimeoutMs()) * time.Millisecond,
			MaxConcurrent: c.GetLimits().GetMaxConcurrent(),
		},
	}
	switch c.GetKind() {
	case pprocdv1.CallableKind_CALLABLE_KIND_FUNCTION:
		out.Kind = Function
	case pprocdv1.CallableKind_CALLABLE_KIND_CHANNEL:
		out.Kind = ChannelCallable
	}
	for _, p := range c.GetParameters() {
		param := Parameter{
			Name:        p.GetName(),
			Type:        parameterType(p.GetType()),
			Description: p.GetDescription(),
			Required:    p.GetRequired(),
		}
		if p.GetDefaultValue() != nil {
			param.Default = FromValue(p.GetDefaultValue())
		}
		out.Parameters = append(out.Parameters, param)
	}
	return out
}

func parameterType(t pprocdv1.ParameterType) string {
	switch t {
	case pprocdv1.ParameterType_PARAMETER_TYPE_ANY:
		return "any"
	case pprocdv1.ParameterType_PARAMETER_TYPE_INTEGER:
		return "integer"
	case pprocdv1.ParameterType_PARAMETER_TYPE_NUMBER:
		return "number"
	case pprocdv1.ParameterType_PARAMETER_TYPE_STRING:
		return "string"
	case pprocdv1.ParameterType_PARAMETER_TYPE_BOOLEAN:
		return "boolean"
	case pprocdv1.ParameterType_PARAMETER_TYPE_LIST:
		return "list"
	case pprocdv1.ParameterType_PARAMETER_TYPE_STRUCT:
		return "struct"
	}
	return "unspecified"
}

// Status holds the server's pool and queue counters (GetStatus).
type Status struct {
	WorkersIdle       uint32
	WorkersBusy       uint32
	WorkersStarting   uint32
	WorkersConfigured uint32
	// Items accepted and not yet running, over all calls.
	ItemsQueued  uint64
	ItemsRunning uint64
	// Since start: items that produced a value; that raised, timed out or
	// were cancelled; whose worker died.
	ItemsCompleted uint64
	ItemsFailed    uint64
	ItemsCrashed   uint64
	// Since start: workers started to replace dead or killed ones; replaced
	// after --max-tasks-per-worker items.
	WorkersRespawned uint64
	WorkersRecycled  uint64
	// Calls (Map, Queue, Start) open now.
	CallsActive     uint32
	CallableReloads uint64
	Uptime          time.Duration
}

func statusFrom(s *pprocdv1.GetStatusResponse) *Status {
	return &Status{
		WorkersIdle:       s.GetWorkersIdle(),
		WorkersBusy:       s.GetWorkersBusy(),
		WorkersStarting:   s.GetWorkersStarting(),
		WorkersConfigured: s.GetWorkersConfigured(),
		ItemsQueued:       s.GetItemsQueued(),
		ItemsRunning:      s.GetItemsRunning(),
		ItemsCompleted:    s.GetItemsCompleted(),
		ItemsFailed:       s.GetItemsFailed(),
		ItemsCrashed:      s.GetItemsCrashed(),
		WorkersRespawned:  s.GetWorkersRespawned(),
		WorkersRecycled:   s.GetWorkersRecycled(),
		CallsActive:       s.GetCallsActive(),
		CallableReloads:   s.GetCallableReloads(),
		Uptime:            time.Duration(s.GetUptimeMs()) * time.Millisecond,
	}
}

// blockResults appends a block's successful results to out.
func blockResults(out []Result, b *pprocdv1.ResultBlock) ([]Result, error) {
	count := int(b.GetCount())
	values, err := decodeValues(b.GetValues(), count)
	if err != nil {
		return out, err
	}
	perItem := b.GetItemStats()
	if len(perItem) != 0 && len(perItem) != count {
		return out, fmt.Errorf("a block of %d items has %d item stats", count, len(perItem))
	}
	block := &Block{FirstIndex: b.GetFirstIndex(), Count: count, Stats: statsFrom(b.GetStats())}
	start := len(out)
	out = slices.Grow(out, count)[:start+count]
	for i, value := range values {
		// Filled in place: a Result is large enough for copies to count.
		result := &out[start+i]
		result.Index = block.FirstIndex + uint64(i)
		result.Last = true
		result.Value = value
		result.Block = block
		if len(perItem) != 0 {
			result.Stats = statsFrom(perItem[i])
		}
	}
	return out, nil
}

// mergeResults converts one response's results and blocks, merged by
// index (a result before a block's item of the same index, which the
// server never sends).
func mergeResults(callable string, items []*pprocdv1.ItemResult, blocks []*pprocdv1.ResultBlock) ([]Result, error) {
	total := len(items)
	for _, b := range blocks {
		total += int(b.GetCount())
	}
	out := make([]Result, 0, total)
	var err error
	for len(items) > 0 || len(blocks) > 0 {
		if len(blocks) == 0 || (len(items) > 0 && items[0].GetIndex() <= blocks[0].GetFirstIndex()) {
			out = append(out, resultFrom(callable, items[0]))
			items = items[1:]
			continue
		}
		// The results before the block's end come first.
		end := blocks[0].GetFirstIndex() + uint64(blocks[0].GetCount())
		if len(items) > 0 && items[0].GetIndex() < end {
			return nil, fmt.Errorf("result %d falls inside a block of %d..%d", items[0].GetIndex(), blocks[0].GetFirstIndex(), end-1)
		}
		if out, err = blockResults(out, blocks[0]); err != nil {
			return nil, err
		}
		blocks = blocks[1:]
	}
	return out, nil
}
