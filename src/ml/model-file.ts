// The trained-model directory (ModelFile of src/ml/types.ts: model.json + weights.bin) and the
// training checkpoint (one file, written atomically). Weights travel as Float32Arrays in the model's
// weight order, so the same code saves the best epoch, the checkpoint and the final model.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import type { Model, ModelFile } from './types.js';
import { buildModel, weightShapes, type Network } from './models.js';
import { StepError } from '../core/errors.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const CHECKPOINT_FILE = 'checkpoint.bin';

export function readWeights(model: Model): Float32Array[] {
  return [...model.weights.values()].map((v) => v.dataSync().slice() as Float32Array);
}

export function assignWeights(model: Model, values: Float32Array[]): void {
  const vars = [...model.weights.values()];
  if (values.length !== vars.length) throw new Error(`${values.length} weight arrays for ${vars.length} weights`);
  vars.forEach((v, i) => {
    if (values[i].length !== v.size) throw new Error(`weight ${v.name}: ${values[i].length} values, expected ${v.size}`);
    tf.tidy(() => v.assign(tf.tensor(values[i], v.shape, 'float32')));
  });
}

/** Concatenated float32 little-endian (every platform Node runs on here is little-endian). */
function concat(arrays: Float32Array[]): Uint8Array {
  const total = arrays.reduce((a, w) => a + w.length, 0);
  const out = new Float32Array(total);
  let at = 0;
  for (const w of arrays) {
    out.set(w, at);
    at += w.length;
  }
  return new Uint8Array(out.buffer);
}

function split(bytes: Uint8Array, sizes: number[], what: string): Float32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (bytes.byteLength !== total * 4) throw new Error(`${what}: ${bytes.byteLength} bytes, expected ${total * 4}`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out: Float32Array[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push(all.slice(at, at + n));
    at += n;
  }
  return out;
}

/** Writes model.json + weights.bin into `dir` (a step's workDir: the engine moves it into the store). */
export function writeModelDir(dir: string, file: Omit<ModelFile, 'format' | 'weights'>, values: Float32Array[]): void {
  mkdirSync(dir, { recursive: true });
  const meta: ModelFile = { format: 'repro-model/1', ...file, weights: weightShapes(file.spec) };
  writeFileAtomic(join(dir, WEIGHTS_BIN), concat(values));
  writeJsonAtomic(join(dir, MODEL_JSON), meta);
}

export function readModelFile(dir: string): ModelFile {
  const path = join(dir, MODEL_JSON);
  if (!existsSync(path)) throw new StepError(`${dir} is not a model directory: ${MODEL_JSON} is missing`, 'pass the model output of a train step');
  const meta = JSON.parse(readFileSync(path, 'utf8')) as ModelFile;
  if (meta.format !== 'repro-model/1') throw new StepError(`${path}: format is ${JSON.stringify(meta.format)}, expected 'repro-model/1'`);
  return meta;
}

/** A tfjs model directory as a Network with its trained weights. */
export function loadModel(dir: string): { file: ModelFile; model: Network } {
  const file = readModelFile(dir);
  if (file.engine !== 'tfjs') throw new Error(`${dir} holds a ${file.engine} model; evaluate it with the ${file.engine} engine`);
  const shapes = weightShapes(file.spec);
  const sizes = shapes.map((s) => s.shape.reduce((a, b) => a * b, 1));
  const values = split(new Uint8Array(readFileSync(join(dir, WEIGHTS_BIN))), sizes, join(dir, WEIGHTS_BIN));
  const model = buildModel(file.spec, 0);
  assignWeights(model, values);
  return { file, model };
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: "RPCK", u32 header length, JSON header (padded to 4 bytes), float32 arrays.

export interface CheckpointHeader {
  /** Hash of the training config: a checkpoint of another config is ignored, never resumed. */
  configHash: string;
  /** The last finished epoch (0-based). */
  epoch: number;
  /** Anything JSON the trainer needs to resume (history, loss state, best epoch, optimiser step count). */
  state: unknown;
  /** Lengths of the float32 arrays that follow, in order. */
  arrays: number[];
}

const MAGIC = Buffer.from('RPCK');

export function writeCheckpoint(dir: string, header: Omit<CheckpointHeader, 'arrays'>, arrays: Float32Array[]): void {
  const json = Buffer.from(JSON.stringify({ ...header, arrays: arrays.map((a) => a.length) }));
  const pad = (4 - (json.length % 4)) % 4;
  const head = Buffer.alloc(8);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(json.length + pad, 4);
  writeFileAtomic(join(dir, CHECKPOINT_FILE), Buffer.concat([head, json, Buffer.alloc(pad, 0x20), concat(arrays)]));
}

/** The checkpoint in `dir`, or null when there is none or it belongs to another config. */
export function readCheckpoint(dir: string, configHash: string): { header: CheckpointHeader; arrays: Float32Array[] } | null {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) return null;
  const bytes = readFileSync(path);
  if (bytes.length < 8 || !bytes.subarray(0, 4).equals(MAGIC)) return null;
  const len = bytes.readUInt32LE(4);
  const header = JSON.parse(bytes.subarray(8, 8 + len).toString('utf8')) as CheckpointHeader;
  if (header.configHash !== configHash) return null;
  const body = new Uint8Array(bytes.buffer, bytes.byteOffset + 8 + len, bytes.length - 8 - len);
  return { header, arrays: split(body, header.arrays, path) };
}
