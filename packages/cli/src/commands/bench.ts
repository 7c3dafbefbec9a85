/**
 * `ecgnn bench <model>`: how fast @ecgnn/infer runs a model file on this machine — `predict` timed at each batch
 * size by @ecgnn/train's `timePredict` (synthetic inputs, warm-up, the median of timed runs), per call and per
 * item, with the machine and Node version. The full suite against peer engines (onnxruntime, TensorFlow.js,
 * PyTorch) is `pnpm bench` in a checkout of the repository: benchmarks/ is not part of the package.
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { readModelFile } from '@ecgnn/infer/node';
import { type PredictTiming, timePredict } from '@ecgnn/train';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { EXIT_OK, formatTable, printJson, println, type RunContext } from '../io.js';
import { intArg, listArg, withJsonOption } from '../options.js';

/** Where the peer benchmark suite is, said after the figures. */
export const PEER_SUITE_NOTE =
  'the full suite against peer engines (onnxruntime, TensorFlow.js, PyTorch) is `pnpm bench` in a checkout of the repository (benchmarks/ is not part of the package)';

/** Options of `bench`. */
interface BenchOptions {
  batch: number[];
  runs: number;
  kernels: 'auto' | 'wasm' | 'typescript';
  json?: boolean;
}

/** `--batch`: a comma list of batch sizes ≥ 1. */
function batchesArg(value: string): number[] {
  const int = intArg(1);
  const sizes = listArg(value).map((v) => {
    try {
      return int(v);
    } catch {
      throw new InvalidArgumentError(`batch sizes are integers ≥ 1, got '${v}'.`);
    }
  });
  return [...new Set(sizes)];
}

/** The machine the figures come from: CPU model, cores, OS, Node. */
export function machineInfo(): { cpu: string; cores: number; platform: string; arch: string; node: string } {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    platform: `${os.type()} ${os.release()}`,
    arch: process.arch,
    node: process.version,
  };
}

const fmtMs = (ms: number): string => (ms >= 10 ? ms.toFixed(1) : ms >= 0.1 ? ms.toFixed(3) : ms.toFixed(5));

async function bench(ctx: RunContext, file: string, o: BenchOptions): Promise<number> {
  const path = resolve(file);
  const model = await readModelFile(path, { kernels: o.kernels });
  const machine = machineInfo();
  const timings: PredictTiming[] = [];
  for (const batch of o.batch) {
    println(ctx.io.err, `timing predict at batch ${batch}…`);
    timings.push(timePredict(model, { batch, runs: o.runs }));
  }
  const result = {
    model: path,
    name: model.metadata.name,
    inputs: model.inputs.map((i) => ({ name: i.name, shape: i.shape })),
    classes: model.metadata.classes.length,
    kernels: model.metadata.kernels,
    machine,
    method: `synthetic inputs; warm-up ≥ 200 ms, then ${o.runs} timed runs of ≥ 20 ms each; median run's time per call (p10–p90 of the runs beside it)`,
    timings,
    peerSuite: 'pnpm bench (in a checkout of the repository)',
  };
  if (o.json) {
    printJson(ctx.io, result);
    return EXIT_OK;
  }
  const inputs = result.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ');
  println(
    ctx.io.out,
    `${path}${result.name ? ` (${result.name})` : ''}: inputs ${inputs}, ${result.classes} classes, ${result.kernels} kernels`,
  );
  println(
    ctx.io.out,
    `machine: ${machine.cpu} × ${machine.cores} cores, ${machine.platform} ${machine.arch}, Node ${machine.node}`,
  );
  println(ctx.io.out);
  println(
    ctx.io.out,
    formatTable(
      ['batch', 'ms/call', 'p10–p90', 'ms/item', 'items/s', 'runs × calls'],
      timings.map((t) => [
        String(t.batch),
        fmtMs(t.msPerCall),
        `${fmtMs(t.p10)}–${fmtMs(t.p90)}`,
        fmtMs(t.msPerItem),
        t.itemsPerSecond >= 100 ? t.itemsPerSecond.toFixed(0) : t.itemsPerSecond.toFixed(1),
        `${t.runs} × ${t.callsPerRun}`,
      ]),
    ),
  );
  println(ctx.io.out);
  println(ctx.io.out, `${result.method}.`);
  println(ctx.io.out, `Note: ${PEER_SUITE_NOTE}.`);
  return EXIT_OK;
}

/** Registers `bench` on `program`. */
export function registerBench(program: Command, ctx: RunContext): void {
  withJsonOption(
    program
      .command('bench')
      .description(
        'time @ecgnn/infer predict on a model file at each batch size (per call, per item) on this machine',
      )
      .argument('<model>', 'model file (.ecgnn)')
      .option('--batch <list>', 'batch sizes, comma-separated', batchesArg, [1, 32])
      .option('--runs <n>', 'timed runs per batch size (the median is reported)', intArg(1), 21)
      .addOption(
        new Option('--kernels <set>', 'kernel set of @ecgnn/infer (auto: WebAssembly SIMD when available)')
          .choices(['auto', 'wasm', 'typescript'])
          .default('auto'),
      ),
  )
    .addHelpText('after', `\nNote: ${PEER_SUITE_NOTE}.`)
    .action(async (model: string, o: BenchOptions) => {
      ctx.code = await bench(ctx, model, o);
    });
}
