/**
 * Settings of the pipeline (`ecgnn pipeline`, the README's main job): MIT-BIH → teacher → distilled student →
 * lottery ticket → binary network, each exported and checked in @ecgnn/infer, then one DS2 record served end to
 * end. Three sizes:
 * - `full`: the settings of the results rows in docs/results.md (distillation with hard-example teacher batches,
 *   14 teacher and 40 student epochs; the lottery-ticket search of the row lth/teacher; the 5-class patient-wise
 *   binary network and its float twin, 30 epochs, PReLU slopes ≥ 0);
 * - `quick` (default): the same models on a subset (every 8th beat, every 4th fragment) for a few epochs, so the
 *   whole pipeline runs in minutes — its figures are labelled quick, never results;
 * - `smoke`: the experiments' smoke settings (tests).
 * The pipeline adds no training recipe of its own: every stage is an @ecgnn/train experiment with these options.
 */
import type { ProgressMode } from '../progress.js';
import type { BnnSettings, BnnVariant } from './bnn-config.js';
import type { DistillSamplerName, DistillSettings } from './distill-config.js';
import type { LthModelName, LthSearchSettings } from './lth-config.js';

/** The size of a pipeline run (see the module comment). */
export type PipelineMode = 'quick' | 'full' | 'smoke';

/** The stages of the pipeline, in order. */
export const PIPELINE_STAGES = ['data', 'distill', 'prune', 'binarize', 'serve', 'report'] as const;
/** One of {@link PIPELINE_STAGES}. */
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

/** What each stage runs, per mode. */
export interface PipelineSettings {
  /** The distillation experiment (teacher, student alone, distilled student). */
  distill: {
    smoke: boolean;
    settings: Partial<DistillSettings>;
    teacherSampler: DistillSamplerName;
    teacherEpochs?: number;
    studentEpochs?: number;
  };
  /** The lottery-ticket experiment. */
  prune: {
    smoke: boolean;
    model: LthModelName;
    settings: Partial<DistillSettings>;
    search: Partial<LthSearchSettings>;
    epochs?: number;
  };
  /** The binary-network experiment (always the 5 AAMI classes, patient-wise DS1/DS2 fragments). */
  binarize: {
    smoke: boolean;
    variants: readonly BnnVariant[];
    epochs?: number;
    settings: Partial<BnnSettings>;
  };
  /** The end-to-end check: DS2 record served by the distilled student, and the strip drawn in the report. */
  serve: { record: string; stripSeconds: number };
}

const FAST_LATENCY = { perRun: 20, runs: 5 };

/** Settings of each mode. */
export const PIPELINE_SETTINGS: Record<PipelineMode, PipelineSettings> = {
  full: {
    distill: {
      smoke: false,
      settings: {},
      teacherSampler: 'hard-example',
      teacherEpochs: 14,
      studentEpochs: 40,
    },
    // The row lth/teacher: the distillation teacher, 50 % per round, 3 epochs per run, traced to round 9.
    prune: {
      smoke: false,
      model: 'teacher',
      settings: {},
      search: { fraction: 0.5, maxRounds: 12, traceRounds: 9 },
      epochs: 3,
    },
    binarize: {
      smoke: false,
      variants: ['binary', 'float'],
      epochs: 30,
      settings: { preluSlopes: 'nonNegative' },
    },
    serve: { record: '200', stripSeconds: 12 },
  },
  quick: {
    distill: {
      smoke: false,
      settings: { every: 8, checkpointEvery: 50, latency: FAST_LATENCY },
      teacherSampler: 'weighted',
      teacherEpochs: 3,
      studentEpochs: 8,
    },
    prune: {
      smoke: false,
      model: 'student',
      settings: { every: 8, checkpointEvery: 50, latency: FAST_LATENCY },
      search: { fraction: 0.5, maxRounds: 3, retries: 0, goal: 0.95 },
      epochs: 5,
    },
    binarize: {
      smoke: false,
      variants: ['binary', 'float'],
      epochs: 5,
      settings: { every: 4, preluSlopes: 'nonNegative', latency: FAST_LATENCY },
    },
    serve: { record: '200', stripSeconds: 12 },
  },
  smoke: {
    distill: { smoke: true, settings: {}, teacherSampler: 'weighted', teacherEpochs: 2, studentEpochs: 2 },
    prune: {
      smoke: true,
      model: 'student',
      settings: {},
      search: { maxRounds: 2, control: false },
      epochs: 2,
    },
    binarize: {
      smoke: true,
      variants: ['binary'],
      epochs: 1,
      settings: { every: 24, preluSlopes: 'nonNegative' },
    },
    serve: { record: '200', stripSeconds: 8 },
  },
};

/** Options of {@link runPipeline} (experiments/pipeline.ts). */
export interface PipelineOptions {
  /** Directory holding `mitdb/`. */
  dataDir: string;
  /** Output directory: one folder per stage (checkpoints, model files), `report.json`, `report.html`. */
  outDir: string;
  /** Seed of every stage. */
  seed: number;
  /** Size of the run (default quick). */
  mode?: PipelineMode;
  /** DS2 record served end to end (default the mode's, 200). */
  serveRecord?: string;
  /** Continue from the checkpoints in `outDir` (each experiment reloads its finished models). */
  resume?: boolean;
  /** Progress display of the trainers (default 'auto'). */
  progress?: ProgressMode;
  /** The command, commit and date written into the rows, the model files and the report. */
  provenance: { command: string; commit: string; date: string; commitDirty?: boolean | null };
  /** One line per stage as it starts and ends (default console.log). */
  onStage?: (line: string) => void;
  /** The experiments' own progress lines (default: discarded; the stages' lines go to `onStage`). */
  log?: (line: string) => void;
}
