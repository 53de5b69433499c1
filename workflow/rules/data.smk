# Data stages shared by every study: fetch (verified), prepare (cached netCDF with provenance).
# Nothing here is required by `rule all` until a study consumes it. Named targets:
#   snakemake --cores 2 data_offline     MNIST 10k (shipped) + its features, iris, digits, QM9
#   snakemake --cores 2 data_mnist_full --configfile configs/mnist_mirror.yaml    70k + features
#   snakemake --cores 2 data_moses       the three MOSES splits (subsets from the config)
#   snakemake --cores 1 qm9_fetch        QM9's CSVs from qm9pack's wheel (when not installed)
# or any file: data/prepared/mnist/full_pca50_all.nc, data/prepared/qm9.nc, ... (data/README.md).

from initlab.data.registry import MNIST_FILES, MNIST_SUBSETS, MOSES_SPLITS
from initlab.data.registry import QM9_CSV_SHA256, QM9_PARTS, QM9_RAW
from initlab.data.registry import moses_csv_paths, qm9_csv_paths

DATA = config["data"]
# The initlab modules each data stage depends on (listed as inputs so real edits rerun it).
DATA_SRC = "src/initlab/data"
DATA_CODE = {
    "mnist": [f"{DATA_SRC}/{m}.py" for m in ("idx", "mnist", "prepared")],
    "features": [f"{DATA_SRC}/{m}.py" for m in ("features", "prepared")],
    "sklearn": [f"{DATA_SRC}/{m}.py" for m in ("sklearn_sets", "prepared")],
    "molecules": [f"{DATA_SRC}/{m}.py" for m in ("molecules", "prepared")],
}
# Installed packages' data files (absent packages give no input; the job then says what to install).
# QM9 (data.qm9.source): the installed qm9pack package (`package`), the CSVs rule qm9_fetch takes
# out of its downloaded wheel (`download`), or the package when installed, else the download (`auto`).
QM9_PACKAGE = [str(p) for p in qm9_csv_paths() or []]
QM9_DOWNLOAD = [str(QM9_RAW / part) for part in QM9_PARTS]
QM9_CSVS = {
    "package": QM9_PACKAGE,
    "download": QM9_DOWNLOAD,
    "auto": QM9_PACKAGE or QM9_DOWNLOAD,
}[DATA["qm9"]["source"]]
MOSES_CSVS = {split: str(p) for split, p in (moses_csv_paths() or {}).items()}
# Configured feature artefacts: those of the shipped 10k split (offline) and those needing train.
MNIST_FEATURES = {
    "test": [f for f in DATA["mnist"]["features"] if f.startswith("test_")],
    "train": [f for f in DATA["mnist"]["features"] if not f.startswith("test_")],
}


# Downloads run where Snakemake runs (cluster nodes often have no network); targets are no jobs.
localrules:
    mnist_fetch,
    qm9_fetch,
    data_offline,
    data_mnist_full,
    data_moses,


rule data_offline:
    input:
        "data/prepared/mnist/test.nc",
        expand("data/prepared/mnist/{feature}.nc", feature=MNIST_FEATURES["test"]),
        expand("data/prepared/{name}.nc", name=["iris", "digits"]),
        "data/prepared/qm9.nc",


rule data_mnist_full:
    input:
        "data/prepared/mnist/full.nc",
        expand("data/prepared/mnist/{feature}.nc", feature=MNIST_FEATURES["train"]),


rule data_moses:
    input:
        expand("data/prepared/moses/{split}.nc", split=list(MOSES_SPLITS)),


rule mnist_fetch:
    output:
        "data/raw/mnist/{mnist_file}.gz",
    log:
        "data/logs/mnist_fetch/{mnist_file}.log",
    benchmark:
        "data/logs/mnist_fetch/{mnist_file}.tsv"
    wildcard_constraints:
        mnist_file="|".join(MNIST_FILES),
    retries: 3
    conda:
        "../envs/initlab.yaml"
    params:
        # The file's bytes are pinned by this hash (tracked), so no code edit can change them.
        sha256=lambda wildcards: MNIST_FILES[wildcards.mnist_file].sha256,
        # Where the bytes come from does not change them: a derived (untracked) param, so
        # switching between shipped copy, mirror and download reruns nothing downstream.
        sources=lambda wildcards, output: {
            "shipped": DATA["mnist"]["shipped"],
            "mirror": DATA["mnist"]["mirror"],
            "base_url": DATA["mnist"]["base_url"],
        },
    script:
        "../../scripts/data_fetch_mnist.py"


rule qm9_fetch:
    output:
        QM9_DOWNLOAD,
    log:
        "data/logs/qm9_fetch.log",
    benchmark:
        "data/logs/qm9_fetch.tsv"
    retries: 3
    conda:
        "../envs/initlab.yaml"
    params:
        # The CSVs' bytes are pinned by these hashes (tracked).
        sha256=QM9_CSV_SHA256,
        # Where the wheel comes from does not change them: derived (untracked), reruns nothing.
        url=lambda wildcards, output: DATA["qm9"]["url"],
    script:
        "../../scripts/data_fetch_qm9.py"


rule mnist_prepare:
    input:
        raw=lambda wildcards: expand(
            "data/raw/mnist/{name}.gz",
            name=[n for pair in MNIST_SUBSETS[wildcards.subset] for n in pair],
        ),
        code=DATA_CODE["mnist"],
    output:
        "data/prepared/mnist/{subset}.nc",
    log:
        "data/logs/mnist_prepare/{subset}.log",
    benchmark:
        "data/logs/mnist_prepare/{subset}.tsv"
    wildcard_constraints:
        subset="|".join(MNIST_SUBSETS),
    # Prepared data unblocks every study reading it: build it before the studies' own jobs.
    priority: 60
    conda:
        "../envs/initlab.yaml"
    params:
        split_seed=DATA["mnist"]["split_seed"],
        test_fraction=DATA["mnist"]["test_fraction"],
    script:
        "../../scripts/data_prepare_mnist.py"


rule mnist_features:
    input:
        data="data/prepared/mnist/{subset}.nc",
        code=DATA_CODE["features"],
    output:
        "data/prepared/mnist/{subset}_{kind}{components}_{fit}.nc",
    log:
        "data/logs/mnist_features/{subset}_{kind}{components}_{fit}.log",
    benchmark:
        "data/logs/mnist_features/{subset}_{kind}{components}_{fit}.tsv"
    wildcard_constraints:
        subset="|".join(MNIST_SUBSETS),
        kind="pca|white",
        components="[1-9][0-9]*",
        fit="all|train",
    # Prepared data unblocks every study reading it: build it before the studies' own jobs.
    priority: 60
    conda:
        "../envs/initlab.yaml"
    params:
        name="{subset}_{kind}{components}_{fit}",
    script:
        "../../scripts/data_features.py"


rule sklearn_prepare:
    input:
        code=DATA_CODE["sklearn"],
    output:
        "data/prepared/{name}.nc",
    log:
        "data/logs/sklearn_prepare/{name}.log",
    benchmark:
        "data/logs/sklearn_prepare/{name}.tsv"
    wildcard_constraints:
        name="iris|digits",
    # Prepared data unblocks every study reading it: build it before the studies' own jobs.
    priority: 60
    conda:
        "../envs/data.yaml"
    params:
        scale=True,
        split_seed=DATA["sklearn"]["split_seed"],
        test_fraction=DATA["sklearn"]["test_fraction"],
    script:
        "../../scripts/data_prepare_sklearn.py"


rule qm9_prepare:
    input:
        csv=QM9_CSVS,
        code=DATA_CODE["molecules"],
    output:
        "data/prepared/qm9.nc",
    log:
        "data/logs/qm9_prepare.log",
    benchmark:
        "data/logs/qm9_prepare.tsv"
    # Prepared data unblocks every study reading it: build it before the studies' own jobs.
    priority: 60
    conda:
        "../envs/data.yaml"
    params:
        dataset="qm9",
        seed=DATA["qm9"]["seed"],
        subset=DATA["qm9"]["subset"],
        train=DATA["qm9"]["train"],
        test=DATA["qm9"]["test"],
        atoms=DATA["qm9"]["atoms"],
        max_nodes=DATA["qm9"]["max_nodes"],
        min_nodes=DATA["qm9"]["min_nodes"],
    script:
        "../../scripts/data_prepare_molecules.py"


rule moses_prepare:
    input:
        csv=lambda wildcards: [MOSES_CSVS[wildcards.split]] if MOSES_CSVS else [],
        code=DATA_CODE["molecules"],
    output:
        "data/prepared/moses/{split}.nc",
    log:
        "data/logs/moses_prepare/{split}.log",
    benchmark:
        "data/logs/moses_prepare/{split}.tsv"
    wildcard_constraints:
        split="|".join(MOSES_SPLITS),
    # Prepared data unblocks every study reading it: build it before the studies' own jobs.
    priority: 60
    conda:
        "../envs/data.yaml"
    params:
        dataset="moses",
        seed=DATA["moses"]["seed"],
        subset=lambda wildcards: DATA["moses"]["subset"][wildcards.split],
        atoms=DATA["moses"]["atoms"],
        max_nodes=DATA["moses"]["max_nodes"],
        min_nodes=DATA["moses"]["min_nodes"],
    script:
        "../../scripts/data_prepare_molecules.py"
