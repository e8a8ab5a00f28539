// The conformance runner's submitting process: connects, submits the job
// described by $PPROCD_CONFORMANCE_SUBMIT, prints the job (or the status)
// as JSON and exits, so that the job's client is gone.
import { connect, PprocdError } from "../index";

async function main(): Promise<void> {
  const request = JSON.parse(process.env.PPROCD_CONFORMANCE_SUBMIT ?? "{}");
  const farm = connect(request.address);
  try {
    const job = await farm.submit(request.callable, request.inputs ?? [], request.options ?? {});
    process.stdout.write(JSON.stringify({ job }) + "\n");
  } catch (err) {
    if (!(err instanceof PprocdError)) throw err;
    process.stdout.write(JSON.stringify({ code: err.code, details: err.details }) + "\n");
  } finally {
    farm.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
