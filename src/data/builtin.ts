// The datasets repro knows by name. A dataset step's sources are recognised as one of them only by
// content hash: every source file must hash to one of the dataset's files and every file must be
// there. Anything else is the user's data, whatever its layout or the name the workflow gives it,
// so a 3-class npz never carries RetinaMNIST's classes, licence or citations.
import { RETINAMNIST_CLASSES, RETINAMNIST_LICENCE, RETINAMNIST_NOTES } from './retinamnist.js';

export interface BuiltinDataset {
  /** The manifest's `name`. */
  name: string;
  description: string;
  classes: string[];
  ordered: boolean;
  /** The dataset step's format that reads its files: only data in it can be recognised as this one. */
  format: string;
  licence: string;
  citation: string[];
  notes: string[];
  /**
   * SHA-256 of each source file's content → its role. For npz the file as distributed; for IDX
   * the decompressed bytes, so Debian's re-gzipped copies and the upstream downloads agree.
   */
  files: Record<string, string>;
}

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export const BUILTIN_DATASETS: readonly BuiltinDataset[] = [
  {
    name: 'retinamnist',
    description: 'RetinaMNIST (MedMNIST v2, 28×28×3): diabetic-retinopathy grade 0–4 of DeepDRiD fundus photographs, official MedMNIST split.',
    classes: RETINAMNIST_CLASSES,
    ordered: true,
    format: 'npz',
    licence: RETINAMNIST_LICENCE,
    citation: [
      'J. Yang et al., "MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical image classification", Scientific Data 10, 41 (2023).',
      'R. Liu et al., "DeepDRiD: Diabetic Retinopathy - Grading and Image Quality Estimation Challenge", Patterns 3(6), 100512 (2022).',
    ],
    notes: RETINAMNIST_NOTES,
    // retinamnist.npz as on Zenodo (record 10519652), byte for byte.
    files: { '254915f5f0a2074665c4676356824cf4ef4a3bcab233894b4bafcaf48962bd69': 'retinamnist.npz' },
  },
  {
    name: 'fashion-mnist',
    description: 'Fashion-MNIST: 28×28 grey Zalando article images, 10 classes, 60000 train / 10000 test.',
    classes: FASHION_MNIST_CLASSES,
    ordered: false,
    format: 'idx',
    licence: 'MIT',
    citation: ['H. Xiao, K. Rasul, R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms", arXiv:1708.07747 (2017).'],
    notes: [],
    // Decompressed IDX files; the label files were checked against the upstream repository's.
    files: {
      c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888: 'train-images-idx3-ubyte',
      bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9: 'train-labels-idx1-ubyte',
      '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b': 't10k-images-idx3-ubyte',
      '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34': 't10k-labels-idx1-ubyte',
    },
  },
];

/** The built-in dataset whose files are exactly these content hashes, or null: the data is the user's. */
export function recogniseBuiltin(contentHashes: string[]): BuiltinDataset | null {
  const given = new Set(contentHashes);
  for (const d of BUILTIN_DATASETS) {
    const known = Object.keys(d.files);
    if (given.size === known.length && known.every((h) => given.has(h))) return d;
  }
  return null;
}

export function builtinNamed(name: string): BuiltinDataset | undefined {
  return BUILTIN_DATASETS.find((d) => d.name === name);
}
