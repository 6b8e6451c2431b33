// The tensor dataset artifact: what `dataset`/`preprocess` steps write and `train`/`evaluate`
// (tfjs in-process, or the torch engine out of process) read. A directory:
//
//   manifest.json           this interface
//   <split>.images.bin      raw little-endian pixels, N×H×W×C (channels last), C order
//   <split>.labels.bin      int32 little-endian class indices, N values
//
// Plain binary so that Python reads it with numpy.fromfile and Node with one Buffer.

export const DATASET_FORMAT = 'repro-tensors/1';

/**
 * What both dataset formats say about the data itself: where it is from, under which licence, how
 * to cite it. The report, the checklist and the RO-Crate read these fields; all are optional so a
 * manifest written before they existed still reads.
 */
export interface DatasetDescription {
  /** 'builtin' when the source files' content hashes are those of a dataset repro knows (RetinaMNIST, Fashion-MNIST; docs/data.md), else 'user'. */
  origin?: 'builtin' | 'user';
  /** One line on what the data is. */
  description?: string;
  /** The data's licence as declared by the workflow, or known for a built-in; absent: not recorded. */
  licence?: string;
  /** How to cite the data, one entry per work. */
  citation?: string[];
}

export interface DatasetSplit {
  /** File names relative to the dataset directory. */
  images: string;
  labels: string;
  /** [N, H, W, C]. */
  shape: [number, number, number, number];
  dtype: 'uint8' | 'float32';
  /** Count per class index, for a quick check of the split. */
  classCounts: number[];
  /** For fold-based datasets: the group (subject) ids in this split, for auditing exclusivity. */
  groups?: string[];
}

export interface DatasetManifest extends DatasetDescription {
  format: typeof DATASET_FORMAT;
  name: string;
  /** Class names in class-index order. */
  classes: string[];
  /** True when the classes have an order (age groups, grades): EMD-type losses need it. */
  ordered: boolean;
  /** Position of each class on the line (unit spacing unless the dataset says otherwise). */
  positions: number[];
  /** 'train', 'val', 'test' are the names steps use; fold datasets name their splits likewise per fold. */
  splits: Record<string, DatasetSplit>;
  /**
   * For float32 data: the per-channel normalisation already applied. For uint8 data: what the
   * trainer should apply ((x/255 − mean)/std); absent means x/255.
   */
  normalization?: { mean: number[]; std: number[] };
  /** Where the data came from, by hash. */
  sources: Array<{ path: string; sha256: string; licence?: string }>;
  /** Free notes (rows dropped and why, licence, citation). */
  notes?: string[];
}

// The image-list dataset: what `dataset` writes for data that stays as image files (Adience), and
// what `preprocess` turns into a `repro-tensors/1` directory. A directory holding manifest.json only.
export const IMAGES_FORMAT = 'repro-images/1';

export interface ImageEntry {
  /** Path relative to the manifest's `root`, with forward slashes. */
  file: string;
  /** Class index. */
  label: number;
  /** Subject (or other group) the image belongs to; splits never share a group. */
  group?: string;
}

export interface ImageListManifest extends DatasetDescription {
  format: typeof IMAGES_FORMAT;
  name: string;
  /** Absolute directory the entries' `file` paths are relative to (an extracted archive in the store). */
  root: string;
  classes: string[];
  ordered: boolean;
  positions: number[];
  /** 'train', 'val', 'test' → entries, in a fixed order. */
  splits: Record<string, ImageEntry[]>;
  /** Rows left out, by reason ('age not one of the 8 groups: (38, 42)': 46). */
  dropped?: Record<string, number>;
  sources: Array<{ path: string; sha256: string; licence?: string }>;
  notes?: string[];
}
