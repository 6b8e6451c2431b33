"""repro's PyTorch engine, launched by src/ml/torch.ts (no shell, arguments as an array).

  main.py info                                   JSON facts about this Python, torch, device, BLAS
  main.py train    [--device D] [--threads N]    TrainConfig JSON on stdin → files in outDir
  main.py evaluate [--device D] [--threads N]    EvalConfig JSON on stdin → metrics.json, predictions.json
  main.py parity   IN.json                       loss values, gradients and metrics on fixed inputs (tests)
  main.py bench    --size 28 --batch 64 ...      training examples/s of the small CNN on random data

Output protocol (stdout): `::progress FRACTION MESSAGE`, `::result JSON` (last line of a success);
any other line is a log line. A user error prints `::error MESSAGE` to stderr and exits 2.
"""
import argparse
import json
import os
import sys
import time

# cuBLAS reads this when its first handle is created; set it before torch touches the GPU, so GPU
# matrix products are deterministic (https://docs.nvidia.com/cuda/cublas/#results-reproducibility).
os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')

from errors import UserError

EXIT_USER_ERROR = 2
BENCH_ROUNDS = 3


def main(argv):
    parser = argparse.ArgumentParser(prog='engines/torch/main.py')
    parser.add_argument('command', choices=['info', 'train', 'evaluate', 'parity', 'bench'])
    parser.add_argument('input', nargs='?', help='parity: the input JSON file')
    parser.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'])
    parser.add_argument('--threads', type=int, default=0, help='CPU threads (0: torch default)')
    parser.add_argument('--size', type=int, default=28)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--loss', default='xe')
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401  (imported here so a missing torch is reported, not a traceback)
    except ImportError as e:
        raise UserError(f'{sys.executable} cannot import torch ({e}); on Debian/Ubuntu install python3-torch and libopenblas0-pthread')

    device = pick_device(args.device, args.threads)
    facts = environment_facts(device)
    if args.command == 'info':
        print(json.dumps(facts))
        return
    if args.command == 'parity':
        import parity
        with open(args.input, encoding='utf-8') as f:
            print(json.dumps(parity.run(json.load(f))))
        return
    if args.command == 'bench':
        print(json.dumps({**bench(args, device), **facts}))
        return

    import train
    config = json.loads(sys.stdin.read())
    emit = train.Emitter()
    result = (train.train if args.command == 'train' else train.evaluate)(config, device, emit, facts)
    emit.result(result)


def pick_device(requested, threads):
    import torch
    if threads > 0:
        torch.set_num_threads(threads)
    if requested == 'cuda' and not torch.cuda.is_available():
        raise UserError('--device cuda was asked for, but torch.cuda.is_available() is False')
    use_cuda = requested == 'cuda' or (requested == 'auto' and torch.cuda.is_available())
    return torch.device('cuda' if use_cuda else 'cpu')


def environment_facts(device):
    """What actually runs: never claims a GPU that is not used."""
    import platform
    import torch
    facts = {
        'engine': 'torch',
        'python': sys.executable,
        'python_version': platform.python_version(),
        'torch': torch.__version__,
        'cuda': torch.cuda.is_available(),
        'device': device.type,
        'device_name': torch.cuda.get_device_name(device) if device.type == 'cuda' else cpu_name(),
        'threads': torch.get_num_threads(),
        'blas': blas_in_use(),
        # CPU: torch.use_deterministic_algorithms(True) holds. CUDA: some kernels (max-pool backward)
        # have no deterministic version, so it is best effort there and not claimed.
        'deterministic': device.type == 'cpu',
    }
    if device.type == 'cuda':
        facts['cuda_version'] = torch.version.cuda
    return facts


def blas_in_use():
    """The BLAS library actually loaded (Debian switches libblas.so.3 by alternatives), read from
    this process's memory map after a matrix product; torch's build string only says 'generic'."""
    import torch
    torch.ones(8, 8) @ torch.ones(8, 8)
    seen = []
    try:
        with open('/proc/self/maps', encoding='utf-8') as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ''
                name = os.path.basename(path)
                if ('blas' in name or 'mkl_rt' in name or name.startswith('libmkl')) and path not in seen:
                    seen.append(path)
    except OSError:
        pass
    if seen:
        return ', '.join(os.path.realpath(p) for p in seen)
    config = torch.__config__.show()
    for part in config.replace('\n', ',').split(','):
        if 'BLAS_INFO' in part:
            return part.strip()
    return None


def cpu_name():
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or 'cpu'


def bench(args, device):
    """Training examples/s of the small CNN, batch `--batch`, on random data of `--size`²×3."""
    import torch
    import train
    from models import build_model
    from objective import Objective
    torch.manual_seed(0)
    spec = {'arch': 'small-cnn', 'inputShape': [args.size, args.size, 3], 'classes': 5}
    model = build_model(spec).to(device)
    objective = Objective({'kind': args.loss}, 5, list(range(5)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(args.batch, 3, args.size, args.size, device=device)
    y = torch.randint(0, 5, (args.batch,), device=device)

    def step():
        loss = objective(model(x)[0], y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    # Best of ROUNDS: on a shared machine, other processes only ever slow a round down.
    rounds = []
    for _ in range(BENCH_ROUNDS):
        train.sync(device)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        train.sync(device)
        rounds.append(time.perf_counter() - t0)
    seconds = min(rounds)
    return {'examples_per_second': args.steps * args.batch / seconds, 'ms_per_step': 1000 * seconds / args.steps,
            'rounds': len(rounds), 'median_examples_per_second': args.steps * args.batch / sorted(rounds)[len(rounds) // 2]}


if __name__ == '__main__':
    try:
        main(sys.argv[1:])
    except UserError as e:
        print(f'::error {e}', file=sys.stderr, flush=True)
        sys.exit(EXIT_USER_ERROR)
