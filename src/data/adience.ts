// Adience (Eidinger, Enbar & Hassner 2014): the official fold files fold_{0..4}_data.txt and the
// protocol of Levi & Hassner 2015: 8 age groups, 5 subject-exclusive folds, train on four and test
// on the fifth. Rows whose age is not one of the 8 group labels are dropped and counted by label.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../core/hash.js';
import { seededRandom, shuffleInPlace } from './random.js';
import { StepError } from '../core/errors.js';

/** The 8 age groups as the fold files write them, in order: index = class. */
export const ADIENCE_AGE_LABELS = ['(0, 2)', '(4, 6)', '(8, 12)', '(15, 20)', '(25, 32)', '(38, 43)', '(48, 53)', '(60, 100)'];
/** Class names as the official page words them. */
export const ADIENCE_CLASSES = ['0-2', '4-6', '8-13', '15-20', '25-32', '38-43', '48-53', '60-'];
export const ADIENCE_FOLDS = 5;

export const FOLD_COLUMNS = [
  'user_id', 'original_image', 'face_id', 'age', 'gender', 'x', 'y', 'dx', 'dy', 'tilt_ang', 'fiducial_yaw_angle', 'fiducial_score',
] as const;

export type AdienceVariant = 'aligned' | 'faces';

export interface FoldRow {
  fold: number;
  /** file:line, for messages. */
  where: string;
  userId: string;
  originalImage: string;
  faceId: string;
  age: string;
  /** Index into ADIENCE_AGE_LABELS, or null when the age is outside the 8 groups. */
  label: number | null;
}

const AGE_INDEX = new Map(ADIENCE_AGE_LABELS.map((a, i) => [a.replace(/\s+/g, ''), i]));

export function ageGroup(age: string): number | null {
  return AGE_INDEX.get(age.replace(/\s+/g, '')) ?? null;
}

/**
 * Parses one fold file. The header must name exactly the official columns (in any order): an
 * unknown column means a different file than the protocol assumes, so it is an error with its
 * file:line:column rather than a guess.
 */
export function parseFoldFile(text: string, file: string, fold: number): FoldRow[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const header = (lines[0] ?? '').split('\t');
  const known = new Set<string>(FOLD_COLUMNS);
  let col = 1;
  for (const name of header) {
    if (!known.has(name)) {
      throw new StepError(
        `${file}:1:${col}: unknown column ${JSON.stringify(name)} in the fold file header`,
        `expected the tab-separated Adience columns: ${FOLD_COLUMNS.join(', ')}`,
      );
    }
    col += name.length + 1;
  }
  for (const name of FOLD_COLUMNS) {
    if (!header.includes(name)) throw new StepError(`${file}:1:1: the fold file header lacks the column '${name}'`, `expected: ${FOLD_COLUMNS.join(', ')}`);
  }
  const at = (name: string): number => header.indexOf(name);
  const iUser = at('user_id');
  const iImage = at('original_image');
  const iFace = at('face_id');
  const iAge = at('age');
  const rows: FoldRow[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === '') continue;
    const fields = line.split('\t');
    if (fields.length !== header.length) {
      throw new StepError(`${file}:${n + 1}:1: ${fields.length} tab-separated fields, the header has ${header.length}`);
    }
    const userId = fields[iUser]!;
    const originalImage = fields[iImage]!;
    const faceId = fields[iFace]!;
    if (!userId || !originalImage || !faceId) throw new StepError(`${file}:${n + 1}:1: user_id, original_image and face_id must not be empty`);
    const age = fields[iAge]!;
    rows.push({ fold, where: `${file}:${n + 1}`, userId, originalImage, faceId, age, label: ageGroup(age) });
  }
  return rows;
}

export interface AdienceFolds {
  folds: FoldRow[][];
  sources: Array<{ path: string; sha256: string }>;
}

/** Reads fold_0_data.txt … fold_4_data.txt from a directory and checks they are subject-exclusive. */
export function readFolds(dir: string): AdienceFolds {
  const folds: FoldRow[][] = [];
  const sources: AdienceFolds['sources'] = [];
  for (let k = 0; k < ADIENCE_FOLDS; k++) {
    const file = join(dir, `fold_${k}_data.txt`);
    if (!existsSync(file)) {
      throw new StepError(`${file} is missing`, 'the folds directory must hold the official fold_0_data.txt … fold_4_data.txt');
    }
    const bytes = readFileSync(file);
    sources.push({ path: `fold_${k}_data.txt`, sha256: sha256(bytes) });
    folds.push(parseFoldFile(bytes.toString('utf8'), file, k));
  }
  const foldOf = new Map<string, FoldRow>();
  for (const rows of folds) {
    for (const row of rows) {
      const first = foldOf.get(row.userId);
      if (first && first.fold !== row.fold) {
        throw new StepError(
          `${row.where}: subject ${row.userId} is in fold ${row.fold} but also in fold ${first.fold} (${first.where})`,
          'Adience folds must be subject-exclusive; are these the official fold files?',
        );
      }
      if (!first) foldOf.set(row.userId, row);
    }
  }
  return { folds, sources };
}

/** Where a row's face image lives, relative to the extracted archive root. */
export function adienceImagePath(row: FoldRow, variant: AdienceVariant): string {
  return variant === 'aligned'
    ? `aligned/${row.userId}/landmark_aligned_face.${row.faceId}.${row.originalImage}`
    : `faces/${row.userId}/coarse_tilt_aligned_face.${row.faceId}.${row.originalImage}`;
}

export interface AdienceSplit {
  train: FoldRow[];
  val: FoldRow[];
  test: FoldRow[];
  /** Reason → rows left out. */
  dropped: Record<string, number>;
}

/**
 * Test = fold `testFold`; train and val = the other four folds, where val is a seeded choice of
 * whole subjects holding about `valFraction` of the training rows, so no subject straddles train/val.
 */
export function splitAdience(folds: FoldRow[][], testFold: number, valFraction: number, seed: number): AdienceSplit {
  if (!Number.isInteger(testFold) || testFold < 0 || testFold >= folds.length) {
    throw new StepError(`test_fold ${testFold} is not one of 0..${folds.length - 1}`);
  }
  const dropped: Record<string, number> = {};
  const keep = (rows: FoldRow[]): FoldRow[] =>
    rows.filter((r) => {
      if (r.label !== null) return true;
      const reason = `age not one of the 8 groups: ${r.age}`;
      dropped[reason] = (dropped[reason] ?? 0) + 1;
      return false;
    });
  const test = keep(folds[testFold]!);
  const pool = keep(folds.filter((_, k) => k !== testFold).flat());

  const rowsBySubject = new Map<string, FoldRow[]>();
  for (const r of pool) {
    const list = rowsBySubject.get(r.userId) ?? [];
    list.push(r);
    rowsBySubject.set(r.userId, list);
  }
  const subjects = shuffleInPlace([...rowsBySubject.keys()].sort(), seededRandom(seed));
  const valSubjects = new Set<string>();
  let valRows = 0;
  const target = valFraction * pool.length;
  for (const s of subjects) {
    if (valRows >= target) break;
    valSubjects.add(s);
    valRows += rowsBySubject.get(s)!.length;
  }
  return {
    train: pool.filter((r) => !valSubjects.has(r.userId)),
    val: pool.filter((r) => valSubjects.has(r.userId)),
    test,
    dropped,
  };
}
