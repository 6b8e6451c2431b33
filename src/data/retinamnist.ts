// RetinaMNIST (MedMNIST v2, 28×28): the embedded default dataset. The .npz holds the official
// train/val/test split as six members: <split>_images (N, 28, 28, 3) uint8 and <split>_labels (N, 1).
import { readNpz } from './npz.js';
import { toInt32Labels } from './npy.js';
import type { SplitTensors } from './tensors.js';
import { StepError } from '../core/errors.js';

export const RETINAMNIST_CLASSES = ['grade 0', 'grade 1', 'grade 2', 'grade 3', 'grade 4'];
export const RETINAMNIST_LICENCE = 'CC BY 4.0';
export const RETINAMNIST_NOTES = [
  'RetinaMNIST (MedMNIST v2, 28x28): diabetic-retinopathy grade 0..4 of DeepDRiD fundus photographs; official MedMNIST split.',
  'Licence CC BY 4.0. Cite: J. Yang et al., "MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical image classification", Scientific Data 10, 41 (2023); R. Liu et al., "DeepDRiD: Diabetic Retinopathy - Grading and Image Quality Estimation Challenge", Patterns 3(6), 100512 (2022).',
  'Not intended for clinical use.',
];

export async function loadRetinaMnist(npzPath: string): Promise<Record<'train' | 'val' | 'test', SplitTensors>> {
  const members = await readNpz(npzPath);
  const split = (name: 'train' | 'val' | 'test'): SplitTensors => {
    const images = members.get(`${name}_images`);
    const labels = members.get(`${name}_labels`);
    if (!images || !labels) {
      throw new StepError(`${npzPath}: member ${name}_images.npy or ${name}_labels.npy is missing (found: ${[...members.keys()].join(', ')})`,
        'is this the RetinaMNIST npz of MedMNIST?');
    }
    if (images.dtype !== 'uint8' || images.shape.length !== 4 || images.shape[3] !== 3) {
      throw new StepError(`${npzPath}: ${name}_images is ${images.dtype} (${images.shape.join(', ')}), expected uint8 (N, H, W, 3)`);
    }
    const y = toInt32Labels(labels, `${npzPath}:${name}_labels`);
    if (y.length !== images.shape[0]) throw new StepError(`${npzPath}: ${y.length} ${name} labels for ${images.shape[0]} images`);
    return { images: images.data as Uint8Array, labels: y, shape: images.shape as [number, number, number, number] };
  };
  return { train: split('train'), val: split('val'), test: split('test') };
}
