// Measures a Map of N `echo` items through this client, in items per
// second, against a pprocd it starts ($PPROCD_BINARY, W workers):
//
//   node dist/test/bench-map-echo.js [N] [--workers W] [--value] [--values] [--rounds R]
//
// --value sends and reads the Value form (google.protobuf.Value per item)
// instead of the packed form; --values collects with mapValues instead of
// iterating map()'s Results. Prints one line per round and the median.
import { connect } from "../index";
import { Server } from "./server";

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string) => args.includes(name);
  const option = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const positional = args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith("--"));
  const n = Number(positional ?? 1_000_000);
  const workers = option("--workers", 2);
  const rounds = option("--rounds", 3);
  const packed = !flag("--value");
  const inputs = Array.from({ length: n }, (_, i) => i);
  const server = new Server();
  await server.start(workers);
  const farm = connect(server.address);
  const rates: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const t0 = process.hrtime.bigint();
      let count = 0;
      if (flag("--values")) {
        count = (await farm.mapValues("echo", inputs, { packed })).length;
      } else {
        for await (const r of farm.map("echo", inputs, { packed })) {
          if (r.error) throw r.error;
          count++;
        }
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (count !== n) throw new Error(`${count} results, want ${n}`);
      rates.push(n / seconds);
      console.log(`round ${round}: ${n} items in ${seconds.toFixed(2)} s: ${(n / seconds / 1e6).toFixed(3)} M items/s`);
    }
  } finally {
    farm.close();
    await server.stop();
  }
  rates.sort((a, b) => a - b);
  const form = packed ? "packed" : "Value";
  const how = flag("--values") ? "mapValues" : "map";
  console.log(`median (${form} form, ${how}, ${workers} workers): ${(rates[rates.length >> 1] / 1e6).toFixed(3)} M items/s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
