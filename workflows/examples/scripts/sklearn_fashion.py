"""One row of the scikit-learn benchmark of Xiao, Rasul & Vollgraf (arXiv:1708.07747, Table 3) on
Fashion-MNIST, as their benchmark/runner.py ran it: pixels standardised with a StandardScaler fitted
on the training set, the training set shuffled, the classifier fitted, accuracy on the 10,000 test
images. Differences from their runner, on purpose: the shuffle and any random_state take the seed
(theirs were unseeded), and --train-limit/--test-limit take the first N shuffled training / first N
test images (for the smoke profile).

Reads the dataset directory that repro's `dataset` step writes (repro-tensors/1: manifest.json,
<split>.images.bin uint8 N×H×W×C, <split>.labels.bin int32). Writes metrics.json in the current
directory: {"accuracy", "fit_s", "predict_s", "n_train", "n_test"} (numbers only: compare reads it), and
environment.json: the Python, NumPy and scikit-learn versions and the estimator's full arguments.

Environment: DATASET (the directory), ESTIMATOR (a class name of the benchmark), PARAMS (a JSON
object of its constructor arguments), SEED, TRAIN_LIMIT and TEST_LIMIT (0: all).
"""
import json
import os
import sys
import time

try:
    import numpy as np
    import sklearn
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils import shuffle
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression, Perceptron, PassiveAggressiveClassifier, SGDClassifier
    from sklearn.neural_network import MLPClassifier
except ImportError as e:  # the workflow's docs say how to install it
    sys.exit(f'scikit-learn is not installed for {sys.executable} ({e}); on Debian/Ubuntu: apt-get install python3-sklearn')

ESTIMATORS = {c.__name__: c for c in [GaussianNB, KNeighborsClassifier, DecisionTreeClassifier, ExtraTreeClassifier,
                                      RandomForestClassifier, LogisticRegression, Perceptron,
                                      PassiveAggressiveClassifier, SGDClassifier, MLPClassifier]}


def split(directory, manifest, name):
    s = manifest['splits'][name]
    n, h, w, c = s['shape']
    if s['dtype'] != 'uint8':
        sys.exit(f'{directory}: split {name} is {s["dtype"]}, expected uint8 pixels')
    x = np.fromfile(os.path.join(directory, s['images']), dtype=np.uint8).reshape(n, h * w * c)
    y = np.fromfile(os.path.join(directory, s['labels']), dtype='<i4')
    return x, y


def main():
    directory = os.environ['DATASET']
    name = os.environ['ESTIMATOR']
    params = json.loads(os.environ.get('PARAMS') or '{}')
    seed = int(os.environ.get('SEED', '0'))
    train_limit = int(os.environ.get('TRAIN_LIMIT') or 0)
    test_limit = int(os.environ.get('TEST_LIMIT') or 0)
    if name not in ESTIMATORS:
        sys.exit(f'ESTIMATOR {name!r} is not one of {", ".join(sorted(ESTIMATORS))}')
    with open(os.path.join(directory, 'manifest.json')) as f:
        manifest = json.load(f)
    x, y = split(directory, manifest, "train")
    xt, yt = split(directory, manifest, "test")
    # The runner's order: standardise, then shuffle. Standardising does not depend on the order, so the
    # permutation comes first here, and a limit (smoke) converts and scales only the rows it keeps.
    order = shuffle(np.arange(len(y)), random_state=seed)
    if train_limit:
        order = order[:train_limit]
    x, y = x[order].astype(np.float64), y[order]
    if test_limit:
        xt, yt = xt[:test_limit], yt[:test_limit]
    scaler = StandardScaler().fit(x)
    x, xt = scaler.transform(x), scaler.transform(xt.astype(np.float64))
    estimator = ESTIMATORS[name]
    if 'random_state' in estimator().get_params():
        params.setdefault('random_state', seed)
    clf = estimator(**params)
    print(f'::progress 0.1 fitting {name} {params} on {len(y)} images', flush=True)
    t0 = time.perf_counter()
    clf.fit(x, y)
    t1 = time.perf_counter()
    print(f'::progress 0.6 predicting {len(yt)} test images', flush=True)
    accuracy = float(clf.score(xt, yt))
    t2 = time.perf_counter()
    metrics = {'accuracy': accuracy, 'fit_s': t1 - t0, 'predict_s': t2 - t1, 'n_train': int(len(y)), 'n_test': int(len(yt))}
    with open('metrics.json', 'w') as f:
        json.dump(metrics, f, indent=2)
    with open('environment.json', 'w') as f:
        json.dump({'python': sys.version.split()[0], 'numpy': np.__version__, 'sklearn': sklearn.__version__,
                   'estimator': name, 'params': params}, f, indent=2)
    print(f'{name} {params}: accuracy {accuracy:.4f} (fit {t1 - t0:.1f} s, predict {t2 - t1:.1f} s)')


if __name__ == '__main__':
    main()
