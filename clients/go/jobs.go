package pprocd

import (
	"context"
	"errors"
	"io"
	"iter"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"pprocd.dev/client/pprocdv1"
)

// SubmitOptions are the options of a background job. The zero value runs
// it once, results in completion order.
type SubmitOptions struct {
	Options
	// Results in input order (true) or completion order (false).
	Ordered bool
	// Unique among the submitter's jobs; GetJob, Reconnect, CancelJob and
	// DeleteJob accept it in place of the id.
	Name string
	// A Submit with a key the submitter already used returns that job
	// instead of starting another.
	IdempotencyKey string
	// How many times the job runs again after a failed attempt.
	Retries uint32
	// Wait before the first retry, doubled for each later one (0: 1 s).
	RetryBackoff time.Duration
	// If set, the server serves this job alone on a UNIX socket there.
	SocketPath string
}

// Submit starts a background job: callable over inputs (one invocation per
// input), as Map (Ordered) or Queue would run them. The job outlives the
// client; Reconnect replays its outputs. options may be nil.
func (c *Client) Submit(ctx context.Context, callable string, inputs []any, options *SubmitOptions) (*Job, error) {
	var callOptions *Options
	if options != nil {
		callOptions = &options.Options
	}
	packed := c.packed(callOptions)
	request := &pprocdv1.SubmitRequest{Callable: callable, Options: callOptions.proto(packed)}
	if packed {
		var err error
		if request.PackedInputs, err = appendJSONArray(nil, inputs); err != nil {
			return nil, err
		}
	} else {
		request.Inputs = make([]*structpb.Value, len(inputs))
		for i, input := range inputs {
			value, err := ToValue(input)
			if err != nil {
				return nil, err
			}
			request.Inputs[i] = value
		}
	}
	if options != nil {
		request.Ordered = options.Ordered
		request.Name = options.Name
		request.IdempotencyKey = options.IdempotencyKey
		request.Retries = options.Retries
		request.RetryBackoffMs = uint32(options.RetryBackoff / time.Millisecond)
		request.SocketPath = options.SocketPath
	}
	response, err := c.stub.Submit(ctx, request)
	if err != nil {
		return nil, c.callError("Submit", err)
	}
	return jobFrom(response.GetJob()), nil
}

// JobOutput is one stored output of a job: one of its results, or the job
// itself at a change of state (or, with Progress, while it runs). The last
// output of a job that has ended is the job in its final state.
type JobOutput struct {
	JobID string
	// 1, 2, 3, ... per job, in the order the outputs were stored.
	Seq uint64
	// Set for a result output.
	Result *Result
	// Set for a job output.
	Job *Job
	// A job output that only reports progress.
	Progress bool
}

// ReconnectOptions choose where a Reconnect's replay starts.
type ReconnectOptions struct {
	// Replay outputs with a Seq greater than this.
	AfterSeq uint64
	// Per job (by the id or name given): overrides AfterSeq.
	AfterSeqByJob map[string]uint64
	// Read successful results one message each (the Value form) instead of
	// in blocks; the outputs are the same.
	ValueForm bool
}

// outputsPerMessage is how many outputs the server may pack into one
// Reconnect message; Reconnect unpacks them.
const outputsPerMessage = 256

// Reconnect attaches to jobs (ids or names): it yields their stored
// outputs, then new ones as they are stored, merged as they come, each
// naming its job; the sequence ends when every job named has ended. A
// failed call ends it with a zero JobOutput and a *CallError. Breaking out
// of the loop detaches (the jobs go on). options may be nil.
func (c *Client) Reconnect(ctx context.Context, jobs []string, options *ReconnectOptions) iter.Seq2[JobOutput, error] {
	return func(yield func(JobOutput, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		request := &pprocdv1.ReconnectRequest{Jobs: jobs, MaxOutputsPerMessage: outputsPerMessage, Packed: !c.valueForm}
		if options != nil {
			request.AfterSeq = options.AfterSeq
			request.AfterSeqByJob = options.AfterSeqByJob
			request.Packed = request.Packed && !options.ValueForm
		}
		stream, err := c.stub.Reconnect(ctx, request)
		if err != nil {
			yield(JobOutput{}, c.callError("Reconnect", err))
			return
		}
		callables := map[string]string{}
		for {
			response, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(JobOutput{}, c.callError("Reconnect", err))
				return
			}
			for _, packed := range append([]*pprocdv1.ReconnectResponse{response}, response.GetMore()...) {
				output := JobOutput{JobID: packed.GetJobId(), Seq: packed.GetSeq(), Progress: packed.GetProgress()}
				switch o := packed.GetOutput().(type) {
				case *pprocdv1.ReconnectResponse_Job:
					output.Job = jobFrom(o.Job)
					callables[output.JobID] = output.Job.Callable
				case *pprocdv1.ReconnectResponse_Result:
					result := resultFrom(callables[output.JobID], o.Result)
					output.Result = &result
				case *pprocdv1.ReconnectResponse_Block:
					results, err := blockResults(nil, o.Block)
					if err != nil {
						yield(JobOutput{}, malformed("Reconnect", err))
						return
					}
					for i := range results {
						output.Seq = packed.GetSeq() + uint64(i)
						output.Result = &results[i]
						if !yield(output, nil) {
							return
						}
					}
					continue
				}
				if !yield(output, nil) {
					return
				}
			}
		}
	}
}

// GetJob returns a job by id or name.
func (c *Client) GetJob(ctx context.Context, job string) (*Job, error) {
	response, err := c.stub.GetJob(ctx, &pprocdv1.GetJobRequest{Job: job})
	if err != nil {
		return nil, c.callError("GetJob", err)
	}
	return jobFrom(response.GetJob()), nil
}

// JobFilter chooses the jobs ListJobs returns; the zero value: every job of
// the caller (of everyone, for root and the admin group).
type JobFilter struct {
	// Only jobs in this state (0: any).
	State JobState
	// Only the job with this name.
	Name string
	// Jobs per request (0: the server's default).
	PageSize uint32
}

// ListJobs yields the jobs that pass filter, newest first, asking for page
// after page as the loop goes on. A failed call ends it with a nil Job and
// a *CallError.
func (c *Client) ListJobs(ctx context.Context, filter JobFilter) iter.Seq2[*Job, error] {
	return func(yield func(*Job, error) bool) {
		token := ""
		for {
			response, err := c.stub.ListJobs(ctx, &pprocdv1.ListJobsRequest{
				State: filter.State, Name: filter.Name, PageSize: filter.PageSize, PageToken: token,
			})
			if err != nil {
				yield(nil, c.callError("ListJobs", err))
				return
			}
			for _, job := range response.GetJobs() {
				if !yield(jobFrom(job), nil) {
					return
				}
			}
			token = response.GetNextPageToken()
			if token == "" {
				return
			}
		}
	}
}

// CancelJob cancels a queued or running job (its running items are
// killed) and returns it; a job that has ended comes back unchanged.
func (c *Client) CancelJob(ctx context.Context, job string) (*Job, error) {
	response, err := c.stub.CancelJob(ctx, &pprocdv1.CancelJobRequest{Job: job})
	if err != nil {
		return nil, c.callError("CancelJob", err)
	}
	return jobFrom(response.GetJob()), nil
}

// DeleteJob deletes a job that has ended, with its stored outputs; while it
// is queued or running the server refuses (codes.FailedPrecondition).
func (c *Client) DeleteJob(ctx context.Context, job string) error {
	if _, err := c.stub.DeleteJob(ctx, &pprocdv1.DeleteJobRequest{Job: job}); err != nil {
		return c.callError("DeleteJob", err)
	}
	return nil
}
